"""Stored English wording into the document's language: reasons, load points, regulation titles.

Records keep what the runner wrote (English reasons, point keys such as ``P+/all/Imax/1.0``),
so the record stays exactly what was measured. A Chinese document prints them through these
tables: each reason pattern has one Chinese template, each regulation one full title. A reason
no pattern knows prints as stored (a document never invents wording); a test lists the reasons
the runner writes, so a new one without a translation is caught in review.
"""

from __future__ import annotations

import re

# Full titles of the regulations, by profile id (as certificates cite them).
REGULATION_TITLES: dict[str, tuple[str, str]] = {
    "jjg596-2012": (
        "JJG 596-2012《电子式交流电能表检定规程》",
        "JJG 596-2012 Verification Regulation of Electronic Alternating-current Energy Meters",
    ),
    "jjg162-2019": (
        "JJG 162-2019《饮用冷水水表检定规程》",
        "JJG 162-2019 Verification Regulation of Cold Potable Water Meters",
    ),
    "iec62053-21": (
        "IEC 62053-21《交流电测量设备 特殊要求 第21部分：静止式有功电能表（1级和2级）》",
        "IEC 62053-21 Electricity metering equipment - Particular requirements - Part 21: "
        "Static meters for AC active energy (classes 0,5, 1 and 2)",
    ),
    "iec62053-22": (
        "IEC 62053-22《交流电测量设备 特殊要求 第22部分：静止式有功电能表（0.1S、0.2S和0.5S级）》",
        "IEC 62053-22 Electricity metering equipment - Particular requirements - Part 22: "
        "Static meters for AC active energy (classes 0,1 S, 0,2 S and 0,5 S)",
    ),
}

_NUMBER = r"[+-]?\d+(?:\.\d+)?"

# (pattern of a stored English reason, Chinese template with the pattern's groups)
REASONS: tuple[tuple[str, str], ...] = (
    (
        rf"^(?P<v>{_NUMBER}) % beyond ±(?P<mpe>{_NUMBER}) % \((?P<zone>upper|lower) zone\)$",
        "误差 {v} % 超出 ±{mpe} %（{zone}）",
    ),
    (rf"^(?P<v>{_NUMBER}) % beyond ±(?P<mpe>{_NUMBER}) %$", "误差 {v} % 超出 ±{mpe} %"),
    (
        rf"^register error (?P<v>{_NUMBER}) % beyond ±(?P<mpe>{_NUMBER}) %$",
        "计度器误差 {v} % 超出 ±{mpe} %",
    ),
    (
        r"^register advanced (?P<a>\S+) kWh while the test output gave (?P<n>\d+) pulses = "
        r"(?P<e>\S+) kWh: the register runs ahead of its pulses$",
        "计度器示数增加 {a} kWh，而测试输出 {n} 个脉冲折合 {e} kWh：计度器走快",
    ),
    (
        r"^total register advanced (?P<a>\S+) kWh, its tariff registers (?P<t>\S+) kWh$",
        "总计度器示数增加 {a} kWh，各费率计度器示数增加之和 {t} kWh",
    ),
    (r"^register ran ahead of the pulses$", "计度器走快（超前于测试输出脉冲）"),
    (rf"^daily error (?P<v>{_NUMBER}) s/d$", "日计时误差 {v} s/d"),
    (rf"^meter clock (?P<v>{_NUMBER}) s off after setting$", "设置后表内时钟偏差 {v} s"),
    (r"^no pulse within t0$", "起动时间 t0 内无脉冲"),
    (r"^first pulse after t0$", "第一个脉冲晚于起动时间 t0"),
    (r"^no pulse within t0 for reverse energy$", "反向起动时间 t0 内无脉冲"),
    (r"^first pulse after t0 for reverse energy$", "反向第一个脉冲晚于起动时间 t0"),
    (r"^the meter has no bus to reach it on$", "该表位没有可用的通信总线"),
    (r"^controller gave no result$", "控制器未给出结果"),
    (r"^register unreadable: (?P<x>.*)$", "计度器示数无法读取：{x}"),
    (r"^meter did not pulse$", "电能表无脉冲输出"),
    (r"^no pulses from the meter$", "电能表无脉冲输出"),
    (r"^no second pulses$", "无时钟秒脉冲输出"),
    (
        r"^address reads (?P<a>\S+), the meter list says (?P<b>\S+)$",
        "通信地址读得 {a}，与表单 {b} 不符",
    ),
    (r"^time setting failed: (?P<x>.*)$", "时钟设置失败：{x}"),
    (r"^the flow left its band in (?P<n>\d+) run\(s\)$", "有 {n} 次流量超出规定范围"),
    (r"^the controller lost meter pulses$", "控制器丢失了被检表脉冲"),
    (r"^not a water bench$", "非水表检定装置"),
    (
        r"^the meter has neither a pulse output nor a register the bench can read$",
        "该表既无脉冲输出，也无装置可读的计数器",
    ),
)
_COMPILED = tuple((re.compile(p), t) for p, t in REASONS)
_ZONES = {"upper": "高区", "lower": "低区"}


def reason_text(reason: str | None, lang: str) -> str:
    """A stored reason in the document's language; parts joined by '; ' are translated one
    by one; an unknown part prints as stored."""
    if not reason:
        return ""
    if lang != "zh":
        return reason
    return "；".join(_one_reason(part.strip()) for part in reason.split("; "))


def _one_reason(text: str) -> str:
    for pattern, template in _COMPILED:
        match = pattern.match(text)
        if match:
            values = {k: _ZONES.get(v, v) for k, v in match.groupdict().items()}
            return template.format(**values)
    return text


def knows_reason(reason: str) -> bool:
    return any(p.match(reason) for p, _ in _COMPILED)


def regulation_title(profile_id: str, lang: str) -> str:
    """The regulation's full title, or '' when the table does not know it."""
    pair = REGULATION_TITLES.get(profile_id.strip().lower().replace(" ", ""))
    if pair is None:
        return ""
    return pair[0] if lang == "zh" else pair[1]


_DIRECTIONS = {
    "P+": ("正向有功", "forward active"),
    "+P": ("正向有功", "forward active"),
    "P-": ("反向有功", "reverse active"),
    "-P": ("反向有功", "reverse active"),
}
_ELEMENTS = {"A": ("A相", "element A"), "B": ("B相", "element B"), "C": ("C相", "element C")}


def point_label(point: str, lang: str) -> str:
    """A load-point key as a reader says it: ``P+/all/Imax/1.0`` -> ``Imax, cosφ=1.0, 正向有功``
    (``Imax, PF 1.0, forward active``). Keys of another shape print as stored."""
    parts = point.split("/")
    index = 0 if lang == "zh" else 1
    direction = element = None
    if parts and parts[0] in _DIRECTIONS:
        direction = _DIRECTIONS[parts[0]][index]
        parts = parts[1:]
    if parts and parts[0] in ("all", "ABC", "each", *_ELEMENTS):
        element = _ELEMENTS[parts[0]][index] if parts[0] in _ELEMENTS else None
        parts = parts[1:]
    if len(parts) != 2 or direction is None and element is None and not _is_pf(parts[1]):
        return point
    current, pf = parts
    if not _is_pf(pf):
        return point
    text = f"{current}, cosφ={pf}" if lang == "zh" else f"{current}, PF {pf}"
    return ", ".join(x for x in (text, element, direction) if x)


def _is_pf(text: str) -> bool:
    return re.fullmatch(r"(0?\.\d+|1(\.0+)?)[LC]?", text) is not None
