"""Invented place and person names for the demo district (any likeness to a real place is chance)."""

from __future__ import annotations

import random

DISTRICT_NAME = "澜湾区"
DISTRICT_CODE = "440399"  # an unassigned county code under 4403, so it cannot clash with real data

STREETS = ("翠峰街道", "金禾街道", "云溪街道", "榕城街道", "沙湖街道", "兰亭街道")

COMMUNITIES = (
    "新桥", "东湖", "竹园", "和平", "荔林", "金沙", "南岭", "凤岗", "石湾", "西坑",
    "田心", "沙背", "六和", "松岗", "龙眼", "碧水", "上围", "下村", "花园", "文昌",
    "锦绣", "黄竹", "白石", "青云", "大塘", "长兴", "岭南", "溪头", "秀峰", "富民",
    "三洲", "福田", "湖贝", "宝岭",
)

ROADS = (
    ("翠峰大道", "primary"),
    ("金禾路", "primary"),
    ("云溪大道", "primary"),
    ("榕湾路", "secondary"),
    ("沙湖东路", "secondary"),
    ("兰亭北路", "secondary"),
    ("澜湾快速路", "trunk"),
)
RIVER = "澜溪河"

ESTATE_STEMS = ("锦绣", "翠湖", "金域", "华府", "碧桂", "御景", "阳光", "龙泉", "星河", "东方", "丽景", "嘉园")
ESTATE_KINDS = ("花园", "新村", "公寓", "工业区", "商业街", "市场", "广场", "小区")

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余于杜叶程苏魏吕丁任沈"
    "姚卢钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥建文辉力俊峰云鹏斌宇浩凯健晨鑫琳雪婷欣怡"
    "子轩梓涵宏志永海国庆春梅丹蕾佳颖嘉慧晓东立新振宁泽宏锦荣家豪伟雄少华柏林思远志强美玲"
)


def person_name(rng: random.Random) -> str:
    """A plausible Chinese personal name: surname plus one or two given-name characters."""
    surname = rng.choice(SURNAMES[:40]) if rng.random() < 0.7 else rng.choice(SURNAMES)
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.65 else "")
    return surname + given


def estate(rng: random.Random) -> str:
    """A residential estate, industrial park or market name."""
    return rng.choice(ESTATE_STEMS) + rng.choice(ESTATE_KINDS)


def phone(rng: random.Random) -> str:
    """An obviously fake mobile number in the 138-0013-8xxx example range."""
    return f"1380013{rng.randrange(8000, 9000):04d}"
