"""Departments, the CJ/T 214-style category tree with time limits, routing rules and the holiday calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from dispatchd.models import Category, Department, Holiday, RoutingRule, Street

# (code, name, phone, units) — units are (code suffix, name); "{street}" becomes each street's name.
DEPARTMENTS: tuple[tuple[str, str, str, tuple[tuple[str, str], ...]], ...] = (
    ("HW", "区环境卫生管理中心", "0755-8990101", (("1", "环卫一所"), ("2", "环卫二所"), ("3", "环卫三所"))),
    ("SZ", "区市政设施管理所", "0755-8990102", (("RD", "道路养护队"), ("LT", "路灯管理站"))),
    ("YL", "区园林绿化管理所", "0755-8990103", ()),
    ("ZF", "区城市管理综合执法大队", "0755-8990104", (("S", "{street}执法中队"),)),
    ("JJ", "区交警大队", "0755-8990105", ()),
    ("SW", "区水务局", "0755-8990106", (("PS", "排水管理所"), ("HD", "河道管理所"))),
    ("RQ", "区燃气公司", "0755-8990107", ()),
    ("GD", "区供电局", "0755-8990108", ()),
    ("ZJ", "区住房和建设局", "0755-8990109", ()),
    ("YJ", "区应急管理局", "0755-8990110", ()),
    ("HB", "区生态环境分局", "0755-8990111", ()),
    ("WG", "区网格管理中心", "0755-8990112", (("S", "{street}网格管理站"),)),
)

KINDS = {"component": "部件", "event": "事件"}

# 大类: (code, name, kind)
MAJORS: tuple[tuple[str, str, str], ...] = (
    ("BJ01", "公用设施", "component"),
    ("BJ02", "道路交通", "component"),
    ("BJ03", "市容环境设施", "component"),
    ("BJ04", "园林绿化", "component"),
    ("SJ01", "市容环境", "event"),
    ("SJ02", "宣传广告", "event"),
    ("SJ03", "施工管理", "event"),
    ("SJ04", "突发事件", "event"),
    ("SJ05", "街面秩序", "event"),
    ("SJ06", "环境污染", "event"),
)


@dataclass(frozen=True)
class Sub:
    """A 小类: its default department code, severity, timing mode, handling limit (h) and a typical report."""

    code: str
    name: str
    dept: str
    severity: str
    timing: str
    handle_h: float
    phrase: str


SUBS: tuple[Sub, ...] = (
    Sub("BJ0101", "井盖缺失", "SZ", "high", "calendar", 4, "井盖丢失，路面留有空洞，行人车辆有坠落危险"),
    Sub("BJ0102", "井盖破损", "SZ", "normal", "working", 8, "井盖破裂下陷，车辆经过时有异响"),
    Sub("BJ0103", "雨水篦子缺损", "SW", "normal", "working", 8, "雨水篦子缺失，路边排水口敞开"),
    Sub("BJ0104", "消防栓损坏", "YJ", "high", "calendar", 8, "消防栓被撞歪，阀门处有渗水"),
    Sub("BJ0105", "电力设施损坏", "GD", "high", "calendar", 4, "路边配电箱柜门脱落，线缆外露"),
    Sub("BJ0106", "燃气设施损坏", "RQ", "major", "calendar", 2, "燃气管道标志桩倒伏，附近有燃气味"),
    Sub("BJ0201", "路灯不亮", "SZ.LT", "low", "working", 16, "整段路灯夜间不亮，路面昏暗"),
    Sub("BJ0202", "交通信号灯故障", "JJ", "high", "calendar", 2, "路口信号灯黑灯，车辆通行混乱"),
    Sub("BJ0203", "交通标志牌损坏", "JJ", "normal", "working", 16, "交通标志牌倾斜，遮挡视线"),
    Sub("BJ0204", "道路护栏损坏", "SZ.RD", "normal", "working", 16, "道路隔离护栏被撞断，散落路面"),
    Sub("BJ0205", "公交站亭破损", "SZ", "low", "working", 24, "公交站亭玻璃破碎，座椅损坏"),
    Sub("BJ0301", "公厕设施损坏", "HW", "normal", "working", 8, "公厕冲水设施损坏，异味明显"),
    Sub("BJ0302", "垃圾箱破损", "HW", "low", "working", 16, "果皮箱破损倾倒，垃圾外漏"),
    Sub("BJ0303", "广告牌匾破损", "ZF", "high", "calendar", 8, "商铺招牌松动，有坠落危险"),
    Sub("BJ0401", "行道树倒伏", "YL", "high", "calendar", 4, "行道树倒伏压住车道"),
    Sub("BJ0402", "绿地设施损坏", "YL", "low", "working", 24, "绿地护栏缺损，喷灌设施损坏"),
    Sub("SJ0101", "暴露垃圾", "HW", "normal", "calendar", 4, "路边生活垃圾堆积未清运，散发异味"),
    Sub("SJ0102", "积存垃圾渣土", "HW", "normal", "working", 8, "空地积存建筑垃圾渣土"),
    Sub("SJ0103", "道路不洁", "HW", "low", "calendar", 4, "路面油污泥沙较多，保洁不到位"),
    Sub("SJ0104", "水域不洁", "SW.HD", "normal", "working", 8, "河面漂浮垃圾和水浮莲"),
    Sub("SJ0105", "乱堆物料", "ZF", "normal", "working", 8, "人行道上乱堆建材杂物"),
    Sub("SJ0106", "私搭乱建", "ZF", "high", "working", 24, "楼顶新搭建铁皮房"),
    Sub("SJ0107", "废弃车辆", "JJ", "low", "working", 24, "路边长期停放无牌废弃车辆"),
    Sub("SJ0108", "焚烧垃圾树叶", "HW", "normal", "calendar", 2, "露天焚烧垃圾，浓烟扰民"),
    Sub("SJ0201", "违章张贴", "ZF", "low", "working", 8, "墙面电杆张贴大量小广告"),
    Sub("SJ0202", "乱涂乱画", "ZF", "low", "working", 16, "围墙被涂写办证电话"),
    Sub("SJ0203", "违规户外广告", "ZF", "normal", "working", 24, "未经审批设置大型户外广告"),
    Sub("SJ0204", "街头散发广告", "ZF", "low", "working", 8, "路口有人散发广告传单"),
    Sub("SJ0301", "施工占道", "ZF", "normal", "working", 8, "施工围挡超范围占用人行道"),
    Sub("SJ0302", "施工扰民", "ZJ", "normal", "calendar", 4, "夜间施工噪音扰民"),
    Sub("SJ0303", "道路破损", "SZ.RD", "normal", "working", 16, "路面坑槽破损，车辆颠簸"),
    Sub("SJ0304", "渣土车遗撒", "ZF", "normal", "calendar", 4, "渣土车沿路遗撒泥土"),
    Sub("SJ0401", "路面塌陷", "SZ.RD", "major", "calendar", 2, "路面突然塌陷形成深坑"),
    Sub("SJ0402", "自来水管破裂", "SW", "high", "calendar", 4, "供水管爆裂，路面大量积水"),
    Sub("SJ0403", "燃气泄漏", "RQ", "major", "calendar", 1, "闻到明显燃气味，疑似泄漏"),
    Sub("SJ0404", "道路积水", "SW.PS", "high", "calendar", 2, "暴雨后路段积水较深，车辆无法通行"),
    Sub("SJ0405", "污水冒溢", "SW.PS", "normal", "calendar", 4, "下水道井口污水外溢"),
    Sub("SJ0406", "烟雾火情", "YJ", "major", "calendar", 1, "楼道内有烟雾，烟感报警"),
    Sub("SJ0501", "占道经营", "ZF", "normal", "working", 4, "流动摊贩占用人行道经营"),
    Sub("SJ0502", "店外经营", "ZF", "low", "working", 8, "商铺超出门店摆卖"),
    Sub("SJ0503", "机动车乱停放", "JJ", "normal", "working", 4, "机动车占用人行道停放"),
    Sub("SJ0504", "非机动车乱停放", "ZF", "low", "working", 8, "共享单车大量堆放阻塞通道"),
    Sub("SJ0505", "露天烧烤", "ZF", "normal", "calendar", 2, "夜间露天烧烤油烟扰民"),
    Sub("SJ0601", "噪声扰民", "HB", "normal", "calendar", 4, "商铺音响外放噪音过大"),
    Sub("SJ0602", "餐饮油烟", "HB", "low", "working", 16, "餐饮店油烟直排"),
    Sub("SJ0603", "工地扬尘", "HB", "normal", "working", 8, "工地未覆盖裸土，扬尘严重"),
    Sub("SJ0604", "河道排污", "SW.HD", "high", "calendar", 8, "排水口向河道排放污水"),
    Sub("SJ0605", "空气质量超标", "HB", "normal", "calendar", 8, "空气监测站数值超标"),
)

# Stage limits in hours; `handle` comes from the 小类. Urgent cases run on tighter clocks.
BASE_LIMITS = {"accept": 0.5, "register": 1.0, "dispatch": 1.0, "verify": 4.0, "close": 2.0}
URGENT_LIMITS = {"accept": 0.1, "register": 0.25, "dispatch": 0.25, "verify": 1.0, "close": 1.0}

# 小类 handled in every street by the street's own unit (a per-street routing rule).
STREET_UNIT = {
    "ZF": ("SJ0105", "SJ0201", "SJ0202", "SJ0204", "SJ0301", "SJ0501", "SJ0502", "SJ0504", "SJ0505"),
}
# Sanitation: streets share three depots; street index → depot unit code.
SANITATION_SUBS = ("SJ0101", "SJ0102", "SJ0103", "BJ0302")

# Chinese public holidays (放假) and worked weekend days (调休上班). 2026 per the State Council notice
# of Nov 2025; 2027 is not yet published, so it is projected by the usual pattern.
HOLIDAYS: tuple[tuple[str, str, int], ...] = (
    ("元旦", "2026-01-01", 3), ("春节", "2026-02-15", 9), ("清明节", "2026-04-04", 3),
    ("劳动节", "2026-05-01", 5), ("端午节", "2026-06-19", 3), ("中秋节", "2026-09-25", 3),
    ("国庆节", "2026-10-01", 7),
    ("元旦", "2027-01-01", 3), ("春节", "2027-02-05", 9), ("清明节", "2027-04-03", 3),
    ("劳动节", "2027-05-01", 5), ("端午节", "2027-06-09", 1), ("中秋节", "2027-09-15", 1),
    ("国庆节", "2027-10-01", 7),
)
WORKDAYS: tuple[tuple[str, str], ...] = (
    ("元旦调休", "2026-01-04"), ("春节调休", "2026-02-14"), ("春节调休", "2026-02-28"),
    ("劳动节调休", "2026-05-09"), ("国庆节调休", "2026-09-20"), ("国庆节调休", "2026-10-10"),
    ("春节调休", "2027-02-14"), ("春节调休", "2027-02-20"), ("劳动节调休", "2027-04-25"), ("国庆节调休", "2027-09-26"),
    ("国庆节调休", "2027-10-09"),
)


def limits_for(sub: Sub) -> tuple[dict[str, float], dict[str, float]]:
    """(normal, urgent) stage limits in hours for a 小类."""
    return {**BASE_LIMITS, "handle": sub.handle_h}, {**URGENT_LIMITS, "handle": max(0.5, sub.handle_h / 4)}


def holiday_rows() -> list[Holiday]:
    """Unsaved Holiday rows: every day off of each holiday, and every worked weekend day."""
    rows = []
    for name, first, days in HOLIDAYS:
        start = date.fromisoformat(first)
        rows.extend(Holiday(date=start + timedelta(days=i), name=name, is_workday=False) for i in range(days))
    rows.extend(Holiday(date=date.fromisoformat(day), name=name, is_workday=True) for name, day in WORKDAYS)
    return rows


def save_departments(streets: list[Street]) -> dict[str, Department]:
    """Create departments and their units; keys are codes like "ZF" or "ZF.S3" (unit of street 3)."""
    found: dict[str, Department] = {}
    for code, name, phone, units in DEPARTMENTS:
        parent = found[code] = Department.objects.create(code=code, name=name, phone=phone)
        for suffix, unit_name in units:
            if "{street}" in unit_name:
                for s, street in enumerate(streets, start=1):
                    key = f"{code}.{suffix}{s}"
                    found[key] = Department.objects.create(
                        code=key, name=unit_name.format(street=street.name), parent=parent, phone=phone
                    )
            else:
                key = f"{code}.{suffix}"
                found[key] = Department.objects.create(code=key, name=unit_name, parent=parent, phone=phone)
    return found


def save_categories(departments: dict[str, Department]) -> dict[str, Category]:
    """Create the 大类 and 小类; keys are category codes."""
    found: dict[str, Category] = {}
    for code, name, kind in MAJORS:
        found[code] = Category.objects.create(code=code, name=name, kind=kind, timing="none")
    for sub in SUBS:
        limits, urgent = limits_for(sub)
        parent = found[sub.code[:4]]
        found[sub.code] = Category.objects.create(
            code=sub.code, name=sub.name, kind=parent.kind, parent=parent,
            default_department=departments[sub.dept], default_severity=sub.severity, timing=sub.timing,
            limits=limits, urgent_limits=urgent,
            register_standard=f"{sub.name}：经核实情况属实、位置明确，属于{KINDS[parent.kind]}管理范围的予以立案",
            close_standard=f"{sub.name}：处置完毕，现场照片与上报位置一致，经核查合格后结案",
        )
    return found


def save_routing(streets: list[Street], departments: dict[str, Department], categories: dict[str, Category]) -> int:
    """Per-street routing rules (execution squads, sanitation depots); returns how many were made."""
    rules = []
    for s, street in enumerate(streets, start=1):
        for dept, codes in STREET_UNIT.items():
            rules.extend(
                RoutingRule(category=categories[c], street=street, department=departments[f"{dept}.S{s}"])
                for c in codes
            )
        depot = departments[f"HW.{(s - 1) // 2 + 1}"]
        rules.extend(RoutingRule(category=categories[c], street=street, department=depot) for c in SANITATION_SUBS)
    RoutingRule.objects.bulk_create(rules)
    return len(rules)


def save_holidays() -> int:
    """Store the 2026–2027 holiday calendar; returns how many days were stored."""
    return len(Holiday.objects.bulk_create(holiday_rows()))
