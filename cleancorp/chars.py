"""Character classes shared by the stages and fixes (as regex class bodies, without brackets).

>>> import re
>>> bool(re.fullmatch(f"[{HAN}]+", "中國"))
True
"""

#: Han characters of the Basic Multilingual Plane: CJK unified ideographs with extension A and
#: the compatibility ideographs.
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
