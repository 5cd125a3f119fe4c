#!/usr/bin/env python3
"""Regenerate fixtures/boilerplate/: labelled pages for scoring the boilerplate stage.

Each page is built from one of several site templates (government portal, party newspaper,
commercial portal, ...) around body paragraphs taken from fixtures/clean/, with sentences in the
body that mention chrome words (the hard negatives). Every line is written with its label:
``C<TAB>`` content, ``B<TAB>`` boilerplate. Deterministic.

    python scripts/make_boilerplate_set.py
"""
from __future__ import annotations

import os
import random
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLEAN = os.path.join(ROOT, "fixtures", "clean")
OUT = os.path.join(ROOT, "fixtures", "boilerplate")
PAGES_PER_TEMPLATE = 4

# Body sentences that mention chrome vocabulary, dates, numbers or look like headings: content.
HARD_NEGATIVES = [
    "要加强知识产权保护，严厉打击侵犯版权、假冒专利等违法行为。",
    "记者在首页看到，新上线的便民服务专区已经收到了上千条群众留言。",
    "分享会上，几位青年代表讲述了自己扎根基层、服务群众的故事。",
    "一、坚持党的领导",
    "（二）完善基层治理体系",
    "二、推动高质量发展取得新突破",
    "编辑部的同志们连夜赶稿，确保报纸按时付印。",
    "来源于群众的智慧，最终还要回到群众中去接受检验。",
    "会议结束后，他关闭了电脑，又翻开了那本写满笔记的本子。",
    "2023年1月29日，全市第一场春风行动招聘会在会展中心举行。",
    "市民可拨打12345热线反映问题，相关部门将在24小时内回复。",
    "难道我们能满足于已有的成绩吗？",
    "“发展是第一要务，人才是第一资源。”他说。",
    "粮食、蔬菜、水果、肉类、禽蛋等主要农产品供应充足。",
    "点击量不是衡量一部作品价值的唯一标准。",
    "这部作品的版权归作者本人所有，出版社只获得了五年的专有出版权。",
    "资金来源：一是财政拨款，二是社会捐助，三是企业自筹。",
    "据统计，今年前三季度全区接待游客1200万人次，同比增长18%。",
    "结语",
    "他把这段视频分享到朋友圈后，很快收到了几十条评论。",
    "地址虽然偏远，但村里的年轻人一个都没有离开。",
    "截至目前，已有3万余人通过手机客户端完成了登记。",
    "下一步，我们将继续完善服务体系，让群众少跑腿。",
    "如何把好事办好？关键在于倾听群众的声音。",
    "ICP备案制度实施以来，对规范互联网信息服务发挥了重要作用。",
    "这本书的版权所有人已经授权出版社再版。",
    "上一篇文章里，我们谈到了乡村教师的困境。",
    "联系群众、服务群众，是基层干部的基本功。",
]

TITLES = [
    "全区召开优化营商环境工作推进会", "我市举行重点项目集中开工活动", "春风行动送岗位进社区",
    "坚持以人民为中心的发展思想", "科技创新为产业升级注入新动能", "乡村振兴绘就美丽新画卷",
    "学习贯彻党的二十大精神宣讲活动走进基层", "数字政府建设迈出新步伐", "守护一江碧水 建设美丽家园",
    "聚焦民生实事 提升群众幸福感", "春节假期文旅市场持续升温", "推动成渝地区双城经济圈建设走深走实",
]
NAMES = ["李辉", "王晓明", "张丽", "陈晨", "刘强", "周尤", "赵敏", "孙杰", "黄蕾", "吴涛", "郑鑫", "高晓燕"]
SITES = ["华龙网", "新华网", "人民网", "上游新闻", "光明网", "中国新闻网", "央广网", "澎湃新闻"]


def clean_lines(name: str) -> list[str]:
    with open(os.path.join(CLEAN, name), encoding="utf-8") as fh:
        return [ln for ln in fh.read().split("\n") if ln.strip()]


class Body:
    """Draws runs of body paragraphs from the clean sample and mixes in hard negatives."""

    def __init__(self) -> None:
        self.sources = {n: clean_lines(n) for n in ("gov-work-reports.txt", "laws.txt", "luxun.txt")}

    def paragraphs(self, rng: random.Random, source: str, count: int, negatives: int = 2) -> list[str]:
        lines = self.sources[source]
        start = rng.randrange(0, len(lines) - count - 1)
        run = [ln for ln in lines[start:start + count]]
        for neg in rng.sample(HARD_NEGATIVES, negatives):
            run.insert(rng.randrange(1, len(run)), neg)
        return run


def date(rng: random.Random, sep: str = "-", time: bool = False) -> str:
    y, m, d = rng.randrange(2015, 2025), rng.randrange(1, 13), rng.randrange(1, 29)
    if sep == "年":
        out = f"{y}年{m:02d}月{d:02d}日"
    else:
        out = f"{y}{sep}{m:02d}{sep}{d:02d}"
    if time:
        out += f" {rng.randrange(6, 23):02d}:{rng.randrange(0, 60):02d}"
        if rng.random() < 0.5:
            out += f":{rng.randrange(0, 60):02d}"
    return out


def pick(rng: random.Random, *options: str) -> str:
    return rng.choice(options)


# -- templates: each returns a list of (label, line) ---------------------------------------------

def gov_portal(rng, body):
    area = pick(rng, "九龙坡区", "渝北区", "江津区", "南岸区")
    page = [
        ("B", pick(rng, "无障碍 | 长者模式 | 繁體 | English", "无障碍浏览  关怀版  English", "长者模式 | 无障碍")),
        ("B", pick(rng, "网站首页 | 政务公开 | 政务服务 | 政民互动 | 走进" + area, "首页 政府信息公开 办事服务 政民互动 数据发布")),
        ("B", pick(rng, "当前位置：首页 > 政务公开 > 通知公告", "您的位置：首页 >> 工作动态 >> 区县动态", "当前位置:首页 > 政府信息公开 > 政策文件")),
        ("C", rng.choice(TITLES)),
        ("B", f"发布时间：{date(rng)}  来源：{area}人民政府办公室  " + pick(rng, "浏览次数：", "点击量：1024", "阅读次数：[ ]")),
        ("B", pick(rng, "【字号：大 中 小】【打印本页】【关闭窗口】", "字号：大 中 小", "【打印】【关闭】")),
    ]
    page += [("C", p) for p in body.paragraphs(rng, "gov-work-reports.txt", rng.randrange(5, 9))]
    page += [
        ("B", pick(rng, "【打印本页】【关闭窗口】", "【关闭】", "分享到：微信 微博 QQ空间")),
        ("B", pick(rng, "网站地图 | 联系我们 | 隐私政策 | 使用帮助", "关于我们 | 联系我们 | 网站地图")),
        ("B", f"主办：重庆市{area}人民政府办公室  承办：{area}大数据应用发展管理局"),
        ("B", f"网站标识码：50010{rng.randrange(70000, 79999)}  渝ICP备{rng.randrange(10000000, 99999999)}号-1"),
        ("B", f"渝公网安备 5001070{rng.randrange(1000000, 9999999)}号"),
        ("B", f"地址：重庆市{area}{pick(rng, '杨家坪正街', '龙塔街道', '鼎山大道')}{rng.randrange(1, 300)}号  邮编：400050"),
    ]
    return page


def party_paper(rng, body):
    page = [
        ("B", pick(rng, "人民网 >> 时政", "人民网 >> 观点 >> 正文", "人民网 >> 地方 >> 重庆频道")),
        ("B", "登录 | 注册"),
        ("B", pick(rng, "首页 | 时政 | 国际 | 财经 | 社会 | 理论 | 党建 | 评论", "新闻 | 观点 | 时政 | 国际 | 军事 | 社会 | 图片 | 视频")),
        ("C", rng.choice(TITLES)),
        ("B", f"{date(rng, '年')}{rng.randrange(6, 23):02d}:{rng.randrange(0, 60):02d} | 来源：{pick(rng, '人民网－人民日报', '人民日报', '经济日报')}"),
        ("B", pick(rng, "小字号", "字号 大 中 小")),
    ]
    page += [("C", p) for p in body.paragraphs(rng, "gov-work-reports.txt", rng.randrange(4, 8))]
    related = [
        "稳就业政策持续发力显效", "让更多群众共享发展成果", "数字经济发展迈上新台阶",
        "基层治理的新探索新实践", "以高质量发展推进现代化建设", "擦亮绿色发展底色",
    ]
    page += [
        ("B", f"(责任编辑：{rng.choice(NAMES)}、{rng.choice(NAMES)})"),
        ("B", "分享让更多人看到"),
        ("B", pick(rng, "相关新闻", "推荐阅读", "热门推荐")),
    ]
    page += [("B", h) for h in rng.sample(related, 4)]
    page += [
        ("B", "人民日报社概况 | 关于人民网 | 报社招聘 | 招聘英才 | 广告服务 | 合作加盟 | 供稿服务 | 网站声明 | 网站律师"),
        ("B", "人 民 网 版 权 所 有 ，未 经 书 面 授 权 禁 止 使 用"),
        ("B", "Copyright © 1997-2024 by www.people.com.cn. all rights reserved"),
    ]
    return page


def commercial_portal(rng, body):
    page = [
        ("B", pick(rng, "新浪首页 新闻 体育 财经 娱乐 科技 博客 图片 专栏 更多", "网易首页 新闻 体育 娱乐 财经 汽车 科技 手机 女人 房产")),
        ("B", pick(rng, "登录 注册", "移动客户端")),
        ("C", rng.choice(TITLES)),
        ("B", f"{date(rng, time=True)} 来源: {rng.choice(SITES)}"),
        ("B", pick(rng, "分享到：微信 朋友圈 微博 QQ空间", "分享到:", "分享")),
        ("B", pick(rng, "微信扫一扫", "新浪微博")),
    ]
    page += [("C", p) for p in body.paragraphs(rng, "gov-work-reports.txt", rng.randrange(4, 8))]
    page += [
        ("B", f"责任编辑：{rng.choice(NAMES)} SN{rng.randrange(100, 999)}"),
        ("B", "发言请遵守新闻跟帖服务协议"),
        ("B", f"已有{rng.randrange(2, 900)}人参与"),
        ("B", pick(rng, "猜你喜欢", "大家都在看")),
        ("B", "外卖骑手的一天：奔跑在城市的大街小巷"),
        ("B", "这个冬天，我们一起去看雪吧"),
        ("B", "关于我们 | About us | 广告服务 | 联系我们 | 招聘信息 | 网站律师 | 产品答疑"),
        ("B", "Copyright © 1996-2024 SINA Corporation, All Rights Reserved"),
    ]
    return page


def tv_station(rng, body):
    name = pick(rng, "重庆广播电视台", "江津区融媒体中心", "第1眼TV")
    page = [
        ("B", pick(rng, "首页 | 新闻 | 直播 | 点播 | 节目 | 专题 | 融媒", "首页  新闻  直播  点播  栏目  专题")),
        ("B", pick(rng, "当前位置：首页>新闻>本地新闻", "您当前的位置 : 首页 > 新闻中心 > 本地新闻")),
        ("C", rng.choice(TITLES)),
        ("B", f"发布时间：{date(rng, '/')} 点击量："),
        ("B", f"来源：{name}  编辑：{rng.choice(NAMES)}"),
    ]
    page += [("C", p) for p in body.paragraphs(rng, "gov-work-reports.txt", rng.randrange(4, 7))]
    page += [
        ("B", f"记者：{rng.choice(NAMES)} {rng.choice(NAMES)}"),
        ("B", "【打印】【关闭】"),
        ("B", f"上一篇：{rng.choice(TITLES)}"),
        ("B", f"下一篇：{rng.choice(TITLES)}"),
        ("B", f"{name}版权所有"),
        ("B", f"信息网络传播视听节目许可证：{rng.randrange(1000000, 9999999)}号"),
    ]
    return page


def county_news(rng, body):
    county = pick(rng, "城口县", "巫溪县", "秀山县", "石柱县")
    page = [
        ("B", f"首页  要闻  乡镇  部门  专题  视频  {county}发布"),
        ("C", rng.choice(TITLES)),
        ("B", f"{county}融媒体中心  {date(rng)}"),
        ("B", f"文/图：{rng.choice(NAMES)} {rng.choice(NAMES)}"),
    ]
    page += [("C", p) for p in body.paragraphs(rng, "gov-work-reports.txt", rng.randrange(4, 8))]
    page += [
        ("B", f"编辑：{rng.choice(NAMES)}  审核：{rng.choice(NAMES)}"),
        ("B", pick(rng, "扫一扫在手机打开当前页", "手机扫一扫 打开当前页")),
        ("B", f"{county}融媒体中心 版权所有 未经授权禁止复制或建立镜像"),
        ("B", f"渝ICP备{rng.randrange(10000000, 99999999)}号"),
        ("B", f"联系电话：023-{rng.randrange(10000000, 99999999)}  投稿邮箱：news{rng.randrange(10, 99)}@163.com"),
    ]
    return page


def university(rng, body):
    uni = pick(rng, "西南大学", "重庆大学", "四川外国语大学")
    page = [
        ("B", f"{uni}新闻网"),
        ("B", "学校主页 | 综合新闻 | 学院新闻 | 媒体聚焦 | 校园动态 | 学术活动"),
        ("C", rng.choice(TITLES)),
        ("B", f"作者：{rng.choice(NAMES)}  来源：党委宣传部  发布时间：{date(rng)}  浏览次数：{rng.randrange(10, 3000)}"),
    ]
    page += [("C", p) for p in body.paragraphs(rng, pick(rng, "gov-work-reports.txt", "luxun.txt"), rng.randrange(5, 9))]
    page += [
        ("B", f"上一条：{rng.choice(TITLES)}"),
        ("B", f"下一条：{rng.choice(TITLES)}"),
        ("B", "【关闭】"),
        ("B", f"版权所有 © {uni}党委宣传部"),
        ("B", f"地址：重庆市北碚区天生路{rng.randrange(1, 99)}号  邮编：400715  电话：023-68252{rng.randrange(100, 999)}"),
    ]
    return page


def wechat_repost(rng, body):
    acct = pick(rng, "重庆发布", "学习强国", "新华社", "人民日报")
    page = [
        ("C", rng.choice(TITLES)),
        ("B", f"{pick(rng, '原创 ', '')}{acct} {acct} {date(rng, time=True)}"),
    ]
    page += [("C", p) for p in body.paragraphs(rng, pick(rng, "gov-work-reports.txt", "luxun.txt"), rng.randrange(4, 8))]
    page += [
        ("B", f"来源：{pick(rng, '重庆日报', '新华社', '央视新闻客户端')}"),
        ("B", f"编辑：{rng.choice(NAMES)}"),
        ("B", f"审核：{rng.choice(NAMES)}"),
        ("B", "阅读原文"),
        ("B", pick(rng, "分享 收藏 点赞 在看", "点赞 在看")),
        ("B", "微信扫一扫"),
        ("B", "关注该公众号"),
    ]
    return page


def forum(rng, body):
    page = [
        ("B", pick(rng, "论坛首页 › 社会杂谈 › 正文", "博客首页 | 随笔 | 文章 | 相册 | 留言板")),
        ("B", pick(rng, "登录 | 注册", "登录 注册 找回密码")),
        ("C", rng.choice(TITLES)),
        ("B", f"楼主 | 发表于 {date(rng, time=True)} | 只看楼主"),
    ]
    page += [("C", p) for p in body.paragraphs(rng, "luxun.txt", rng.randrange(5, 9))]
    page += [
        ("B", pick(rng, "回复 | 引用 | 举报", "回复 引用 举报 收藏")),
        ("B", f"分类：随笔 | 标签：读书 | 阅读({rng.randrange(10, 999)}) | 评论({rng.randrange(0, 40)})"),
        ("B", "发表回复"),
        ("B", "返回列表"),
        ("B", "Powered by Discuz! X3.4 © 2001-2024"),
    ]
    return page


def press_wire(rng, body):
    page = [
        ("B", pick(rng, "新闻发布 | 企业资讯 | 行业动态 | 发布服务 | 联系我们", "首页 > 企业资讯 > 正文")),
        ("C", rng.choice(TITLES)),
        ("B", f"发布时间：{date(rng, time=True)}  来源：{pick(rng, '美通社', '中国网', '企业供稿')}"),
    ]
    page += [("C", p) for p in body.paragraphs(rng, "gov-work-reports.txt", rng.randrange(4, 7))]
    page += [
        ("B", "免责声明：本文内容由企业提供，不代表本站观点，仅供参考。"),
        ("B", f"联系人：{rng.choice(NAMES)}  电话：010-{rng.randrange(10000000, 99999999)}"),
        ("B", "转载请注明出处。"),
        ("B", f"京ICP证{rng.randrange(100000, 999999)}号"),
    ]
    return page


def law_database(rng, body):
    page = [
        ("B", "法律法规数据库 | 司法解释 | 部门规章 | 地方法规 | 高级检索"),
        ("B", "当前位置：首页 > 法律法规 > 正文"),
        ("B", "发布部门：全国人民代表大会常务委员会"),
        ("B", f"发文字号：主席令第{rng.randrange(10, 99)}号"),
        ("B", "效力级别：法律"),
        ("B", "时效性：现行有效"),
        ("B", f"发布日期：{date(rng, '.')}  实施日期：{date(rng, '.')}"),
    ]
    page += [("C", p) for p in body.paragraphs(rng, "laws.txt", rng.randrange(6, 11), negatives=1)]
    page += [
        ("B", "【打印】【关闭】"),
        ("B", "本库所有法规文本仅供参考，请以正式出版物为准。"),
        ("B", "Copyright © 2024 法规资料库 版权所有"),
    ]
    return page


def news_site(rng, body):
    site = rng.choice(SITES)
    page = [
        ("B", f"{site} > 重庆频道 > 正文"),
        ("B", "要闻 时政 社会 区县 财经 文旅 教育 健康 体育"),
        ("C", rng.choice(TITLES)),
        ("B", f"{date(rng, time=True)}  {site}"),
        ("B", f"本报记者 {rng.choice(NAMES)}"),
    ]
    page += [("C", p) for p in body.paragraphs(rng, "gov-work-reports.txt", rng.randrange(4, 8))]
    page += [
        ("B", f"[责任编辑：{rng.choice(NAMES)}]"),
        ("B", "版权声明："),
        ("B", f"①凡本网注明“来源：{site}”的作品，版权均属{site}所有，未经本网授权，不得转载、摘编或利用其它方式使用。"),
        ("B", "②本网转载其他媒体之作品，目的在于传递更多信息，并不代表本网赞同其观点。"),
        ("B", "新闻回顾"),
        ("B", "全市重点项目建设提速 2023-12-20"),
        ("B", "一季度经济运行开局良好 2023-04-18"),
        ("B", "关闭"),
    ]
    return page


def provincial_paper(rng, body):
    page = [
        ("B", "设为首页 | 加入收藏 | 手机版"),
        ("B", pick(rng, "首页·要闻·时政·经济·社会·文化·评论", "首页 · 新闻 · 观点 · 图片 · 视频 · 专题")),
        ("C", rng.choice(TITLES)),
        ("B", f"{pick(rng, '稿件来源', '信息来源')}：{pick(rng, '四川日报', '重庆日报', '贵州日报')}  发布日期：{date(rng)}"),
        ("B", f"[作者：{rng.choice(NAMES)}]"),
    ]
    page += [("C", p) for p in body.paragraphs(rng, "gov-work-reports.txt", rng.randrange(5, 9))]
    page += [
        ("B", f"（编辑：{rng.choice(NAMES)}）"),
        ("B", "网友评论"),
        ("B", "请文明上网，理性发言"),
        ("B", "相关阅读："),
        ("B", f"{rng.choice(TITLES)}"),
        ("B", f"{rng.choice(TITLES)}"),
        ("B", "违法和不良信息举报电话：028-86968276"),
        ("B", "川公网安备 51019002000001号"),
    ]
    return page


TEMPLATES = {
    "gov-portal": gov_portal,
    "party-paper": party_paper,
    "commercial-portal": commercial_portal,
    "tv-station": tv_station,
    "county-news": county_news,
    "university": university,
    "wechat-repost": wechat_repost,
    "forum": forum,
    "press-wire": press_wire,
    "law-database": law_database,
    "news-site": news_site,
    "provincial-paper": provincial_paper,
}


def main() -> int:
    body = Body()
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        if name.endswith(".tsv"):
            os.unlink(os.path.join(OUT, name))
    count = 0
    for t, (template, build) in enumerate(TEMPLATES.items()):
        for k in range(PAGES_PER_TEMPLATE):
            rng = random.Random(1000 * t + k)
            page = build(rng, body)
            path = os.path.join(OUT, f"{template}-{k + 1}.tsv")
            with open(path, "w", encoding="utf-8") as fh:
                fh.write("".join(f"{label}\t{line}\n" for label, line in page))
            count += 1
    print(f"wrote {count} pages from {len(TEMPLATES)} templates to {os.path.relpath(OUT, ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
