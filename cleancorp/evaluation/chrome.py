"""Page chrome for generated pages: menus, breadcrumbs, share bars, time/source/click lines,
editor lines, copyright and ICP footers, from several kinds of site, with random site names.

Every function takes a ``random.Random`` and returns lines; a :class:`Site` holds what stays the
same across one site's pages (name, menu, footer), so two pages of one site share their chrome
the way real scrapes do.

>>> import random
>>> site = Site.make(random.Random(7))
>>> all(isinstance(line, str) and line for line in site.header(random.Random(1)))
True
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

PLACES = ["华东", "渝州", "北方", "南湖", "江城", "东海", "西部", "中原", "天山", "珠江",
          "湘江", "闽南", "燕赵", "齐鲁", "巴蜀", "黔中", "荆楚", "塞北", "岭南", "滨海"]
KINDS = ["网", "新闻网", "在线", "日报网", "资讯网", "晚报", "新闻中心", "传媒网"]
PAPERS = ["日报", "晚报", "都市报", "商报", "晨报", "法治报"]
PROVINCES = ["京", "沪", "渝", "粤", "浙", "苏", "鲁", "川", "鄂", "湘", "闽", "豫", "冀", "陕"]
MENU_ITEMS = ["首页", "新闻", "国内", "国际", "财经", "体育", "娱乐", "科技", "教育", "健康", "汽车",
              "房产", "旅游", "原创", "视听", "评论", "图片", "视频", "专题", "地方", "时政", "社会",
              "军事", "文化", "法治", "民生", "理论", "公益", "直播", "English"]
SECTIONS = ["新闻中心", "国内新闻", "时政要闻", "地方新闻", "社会民生", "财经频道", "本网原创",
            "要闻", "正文", "滚动新闻", "政务公开"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建文斌宇浩凯晨瑞琳欣怡婷雪梅立新志国海波春燕"
SEPARATORS = [" | ", "  ", " · ", "|", " ", "　"]
CRUMB_SEPARATORS = [" > ", ">", " >> ", " » ", "->", " / "]


def person(rng: random.Random, given: int | None = None) -> str:
    """A random Chinese name of two or three characters."""
    n = given if given is not None else rng.choice([1, 2, 2])
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(n))


def date(rng: random.Random, style: int) -> str:
    y, m, d = rng.randint(2008, 2024), rng.randint(1, 12), rng.randint(1, 28)
    hh, mm, ss = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
    return [f"{y}-{m:02d}-{d:02d} {hh:02d}:{mm:02d}:{ss:02d}", f"{y}年{m:02d}月{d:02d}日 {hh:02d}:{mm:02d}",
            f"{y}-{m:02d}-{d:02d}", f"{y}/{m}/{d} {hh}:{mm:02d}", f"{y}年{m}月{d}日"][style % 5]


@dataclass
class Site:
    """What one site repeats on every page."""

    name: str
    paper: str
    domain: str
    menu: list[str]
    menu_sep: str
    menu_one_per_line: bool
    crumb_sep: str
    style: int
    footer: list[str] = field(default_factory=list)

    @classmethod
    def make(cls, rng: random.Random) -> "Site":
        place = rng.choice(PLACES)
        name = place + rng.choice(KINDS)
        paper = place + rng.choice(PAPERS)
        domain = "www." + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 9))) + rng.choice([".com", ".cn", ".com.cn", ".gov.cn"])
        menu = ["首页"] + rng.sample(MENU_ITEMS[1:], rng.randint(5, 12))
        site = cls(name, paper, domain, menu, rng.choice(SEPARATORS), rng.random() < 0.3,
                   rng.choice(CRUMB_SEPARATORS), rng.randrange(5))
        site.footer = site._footer(rng)
        return site

    def _footer(self, rng: random.Random) -> list[str]:
        year = rng.randint(2015, 2024)
        icp = f"{rng.choice(PROVINCES)}ICP备{rng.randint(10000000, 99999999)}号" + rng.choice(["", "-1", "-2"])
        pool = [
            rng.choice(["关于我们 | 联系我们 | 广告服务 | 网站地图 | 法律声明",
                        "关于本站 - 联系方式 - 投稿须知 - 招聘信息", "网站简介|版权声明|联系我们|网站地图"]),
            rng.choice([f"版权所有 © 2003-{year} {self.name} All Rights Reserved",
                        f"Copyright © {year} {self.domain} 版权所有", f"{self.name} 版权所有 未经授权禁止转载",
                        f"Copyright © 2001-{year} {self.name}. All rights reserved."]),
            rng.choice([icp, f"{icp}  {rng.choice(PROVINCES)}公网安备 {rng.randint(10**13, 10**14 - 1)}号",
                        f"ICP备案号：{icp}"]),
            rng.choice([f"互联网新闻信息服务许可证：{rng.randint(10**10, 10**11 - 1)}",
                        f"违法和不良信息举报电话：0{rng.randint(10, 99)}-{rng.randint(10**7, 10**8 - 1)}",
                        f"主办单位：{self.paper}社  技术支持：{self.name}"]),
        ]
        if rng.random() < 0.4:
            pool.insert(0, "版权声明：")
            pool.insert(1, f"1.凡本网注明“来源：{self.name}”的所有作品，版权均属于{self.name}，未经授权不得转载、摘编。")
            pool.insert(2, "2.凡本网注明“来源：XXX（非本网）”的作品，均转载自其它媒体，不代表本网观点。")
        return pool

    def menu_lines(self) -> list[str]:
        return list(self.menu) if self.menu_one_per_line else [self.menu_sep.join(self.menu)]

    def header(self, rng: random.Random) -> list[str]:
        """Menu, maybe a login bar, and a breadcrumb."""
        lines = []
        if rng.random() < 0.3:
            lines.append(rng.choice(["登录 | 注册", "设为首页 加入收藏", "无障碍", "手机版 | English"]))
        lines += self.menu_lines()
        lines.append(breadcrumb(rng, self))
        return lines

    def byline(self, rng: random.Random) -> str:
        """The time/source/click line under the title."""
        d = date(rng, self.style)
        return rng.choice([
            f"{d} 来源：{self.paper}",
            f"发布时间：{d}  来源：{self.name}  作者：{person(rng)}",
            f"来源：{self.paper}  {d}",
            f"时间：{d}  点击：{rng.randint(10, 99999)}次",
            f"{d}  {self.name}  浏览次数：{rng.randint(10, 9999)}",
            f"发布日期：{d} 阅读量：{rng.randint(1, 99)}.{rng.randint(0, 9)}万",
            f"{self.paper} | {d} | 字号：大 中 小",
        ])


def breadcrumb(rng: random.Random, site: Site) -> str:
    path = ["首页"] + rng.sample(SECTIONS, rng.randint(1, 2))
    lead = rng.choice(["您当前的位置：", "当前位置: ", "位置：", "", "您现在的位置是："])
    return lead + site.crumb_sep.join(path)


def share_bar(rng: random.Random) -> list[str]:
    return rng.choice([
        ["分享到：微信 微博 QQ空间"], ["分享到: 新浪微博 腾讯微博 QQ好友"], ["【打印】【关闭】【纠错】"],
        ["扫一扫 分享到微信"], ["分享", "收藏"], ["【字体：大 中 小】"], ["分享到：", "新浪微博", "微信"],
        ["打印本页 | 关闭窗口"], ["0", "分享"],
    ])


def editor_line(rng: random.Random) -> str:
    return rng.choice([
        f"[责任编辑: {person(rng)}]", f"责任编辑：{person(rng)}", f"（编辑：{person(rng)} 审核：{person(rng)}）",
        f"编辑：{person(rng)}", f"校对：{person(rng)}  责编：{person(rng)}", f"（责任编辑：{person(rng)}）",
    ])


def after_body(rng: random.Random, titles: list[str]) -> list[str]:
    """What follows the article: prev/next links, related news, comment prompts, close."""
    lines: list[str] = []
    if titles and rng.random() < 0.5:
        lines += [f"上一篇：{titles[0]}", f"下一篇：{titles[-1]}"]
    if rng.random() < 0.4:
        lines.append(rng.choice(["相关新闻", "相关阅读：", "延伸阅读", "热点推荐"]))
        lines += titles[: rng.randint(1, max(1, len(titles)))]
    if rng.random() < 0.3:
        lines.append(rng.choice(["发言请遵守新闻跟帖服务协议", "网友评论", "我要评论", "已有0人参与"]))
    if rng.random() < 0.5:
        lines.append(rng.choice(["关闭", "返回顶部", "【关闭窗口】", "返回首页"]))
    return lines


HEADLINE_TOPICS = ["经济工作会议", "乡村振兴现场推进会", "优化营商环境大会", "生态环境保护督察反馈会",
                   "科技创新成果发布会", "民生实事项目推进会", "安全生产工作部署会", "文化旅游发展大会",
                   "招商引资签约仪式", "城市更新工作座谈会"]
HEADLINE_VERBS = ["召开", "举行", "启动", "部署", "圆满落幕"]


def headline(rng: random.Random) -> str:
    """A news headline: `南湖召开经济工作会议`, `第三届文化旅游发展大会圆满落幕`."""
    place = rng.choice(PLACES)
    topic = rng.choice(HEADLINE_TOPICS)
    verb = rng.choice(HEADLINE_VERBS)
    if verb == "圆满落幕":
        return f"{place}第{'一二三四五六七八九十'[rng.randrange(10)]}届{topic}{verb}"
    return f"{place}{verb}{topic}"


# Body sentences that look like chrome (a word of a menu, a copyright or share notice, a
# question mark between Han characters) but are content: removing them must cost score.
LOOKALIKES = [
    "本条例所称版权，是指作者对其创作的作品依法享有的权利，任何单位和个人不得侵犯。",
    "何以如此神速高效?这得益于全市推行的“一窗受理、集成服务”改革,群众办事只需跑一次。",
    "他在发言中说，保护知识产权就是保护创新，盗版侵权行为必须依法严厉打击。",
    "网站首页改版以后，政务服务事项可以一键直达，访问量比去年增长了三成。",
    "分享经济的快速发展，为城乡居民提供了大量灵活就业岗位。",
    "责任编辑这一岗位，在报社里往往被看作新闻质量的最后一道关口。",
    "点击量并不能说明一切，内容质量才是媒体的立身之本。",
    "来源于基层的这些创新做法，值得在全省范围内推广。",
    "难道我们就这样放弃吗?当然不是,大家决定换一种办法再试一次。",
    "为什么这个小镇能吸引这么多游客?答案在于它独特的山水和民俗文化。",
    "关闭高污染企业三百余家以后，城区空气质量明显改善。",
    "相关新闻发布会上，发言人介绍了今年的重点工作安排。",
    "ICP备案制度实施以来，对规范互联网信息服务发挥了重要作用。",
    "登录系统后，参保人员可以在线查询历年的社保缴费记录。",
    "扫一扫二维码即可预约挂号，极大方便了患者就医。",
    "版权交易中心去年共完成作品登记一万二千余件，同比增长百分之十五。",
    "首页上那张照片，是记者在洪水退去后的第二天清晨拍下的。",
    "如何让老百姓的钱袋子鼓起来?这是摆在各级干部面前的一道必答题。",
]
