"""Synthetic subjects and penalty records for samples, tests and benchmarks.

Everything is vectorised with numpy (identifiers are built and check-summed as arrays
of character codes) and deterministic for a seed: a million records take a few seconds,
ten million (from five million subjects) about half a minute on two cores. The data look
like Guangdong public-resource-trading practice:

* subjects: bidders (60%), experts (20%), agents (10%) and tenderers (10%); firms and
  public bodies carry valid unified social credit codes (GB 32100-2015) and experts
  valid resident ID numbers (GB 11643-1999); about 3% of bidders also act as agents
  under the same code and name (two roles, two indices);
* records: most subjects are clean, offenders follow a heavy tail (a few repeat
  offenders, some repeating the same behaviour within a year), behaviours are drawn
  from those the rule set allows for the subject's type (minor ones more often), and
  about 1% of acts are published a second time by an aggregating source.

Behaviour codes are never hard-coded: they come from the rule set given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl

from creditindex.identifiers import RID_CHECK, RID_WEIGHTS, USCC_ALPHABET, USCC_WEIGHTS
from creditindex.records import RECORD_SCHEMA, empty_records
from creditindex.rules import SUBJECT_TYPES, RuleSet, load_rules

__all__ = [
    "INDUSTRY_WEIGHTS",
    "REGIONS",
    "SUBJECT_SCHEMA",
    "SUBJECT_SHARES",
    "generate",
    "generate_records",
    "generate_subjects",
    "write_sample",
]

IntArray = npt.NDArray[np.int64]
ByteArray = npt.NDArray[np.uint8]

SUBJECT_SCHEMA: dict[str, pl.DataType] = {
    "subject_id": pl.String(),
    "subject_type": pl.String(),
    "subject_name": pl.String(),
}
SUBJECT_SHARES = {"bidder": 0.6, "expert": 0.2, "agent": 0.1, "tenderer": 0.1}
DUAL_ROLE_SHARE = 0.03  # share of bidders that also act as agents

_EPOCH = dt.date(1970, 1, 1)

# ---------------------------------------------------------------------------------------
# Geography (GB/T 2260 codes from REFERENCE.md)
# ---------------------------------------------------------------------------------------

# (short name, full name, abbreviation used in document numbers, pinyin code)
_CITIES: tuple[tuple[str, str, str, str], ...] = (
    ("广州", "广州市", "穗", "GZ"),
    ("深圳", "深圳市", "深", "SZ"),
    ("珠海", "珠海市", "珠", "ZH"),
    ("佛山", "佛山市", "佛", "FS"),
    ("东莞", "东莞市", "莞", "DG"),
    ("中山", "中山市", "中", "ZS"),
)
# (code, city index, district name or "", weight): Guangzhou districts carry 80% of weight.
REGIONS: tuple[tuple[str, int, str, float], ...] = (
    ("440103", 0, "荔湾区", 0.05),
    ("440104", 0, "越秀区", 0.09),
    ("440105", 0, "海珠区", 0.08),
    ("440106", 0, "天河区", 0.13),
    ("440111", 0, "白云区", 0.10),
    ("440112", 0, "黄埔区", 0.09),
    ("440113", 0, "番禺区", 0.09),
    ("440114", 0, "花都区", 0.06),
    ("440115", 0, "南沙区", 0.06),
    ("440117", 0, "从化区", 0.02),
    ("440118", 0, "增城区", 0.03),
    ("440300", 1, "", 0.06),
    ("440400", 2, "", 0.025),
    ("440600", 3, "", 0.05),
    ("441900", 4, "", 0.04),
    ("442000", 5, "", 0.025),
)
_REGION_CODES = [r[0] for r in REGIONS]
_REGION_CITY = np.array([r[1] for r in REGIONS], dtype=np.int64)
_REGION_P = np.array([r[3] for r in REGIONS]) / sum(r[3] for r in REGIONS)


def _region_prefix(i: int) -> str:
    """The most local name prefix of a region: 广州市天河区, or 深圳市."""
    _, city, district, _ = REGIONS[i]
    return _CITIES[city][1] + district


# ---------------------------------------------------------------------------------------
# Industries and sources
# ---------------------------------------------------------------------------------------

INDUSTRY_WEIGHTS: dict[str, float] = {
    "housing": 0.30, "municipal": 0.16, "transport": 0.12, "water": 0.08,
    "procurement": 0.20, "land": 0.04, "property": 0.03, "medical": 0.07,
}
_INDUSTRIES = list(INDUSTRY_WEIGHTS)
_INDUSTRY_P = np.array(list(INDUSTRY_WEIGHTS.values())) / sum(INDUSTRY_WEIGHTS.values())
# Words in a subject's name that reveal its home industry, checked in this order.
_INDUSTRY_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("medical", "医院|卫生|医药|医疗|保健"),
    ("water", "水利|水务|水电"),
    ("transport", "路桥|交通|地铁|公路|港航"),
    ("municipal", "市政|园林|环境工程|城市管理|城市建设|城市更新"),
    ("housing", "建设工程|建筑|装饰|安装|住房"),
    ("land", "房地产|矿业|自然资源"),
    ("property", "投资|实业|贸易|国有资产"),
    ("procurement", "信息技术|科技|办公设备|物业|学校|中学|小学|幼儿园|教育"),
)

# Regulator slots; industry -> slot (municipal works are regulated by housing bureaus).
_SLOT_OF_INDUSTRY = np.array([0, 0, 1, 2, 3, 4, 5, 6], dtype=np.int64)
_N_SLOTS = 7
_SLOT_DOC = ("建罚", "交罚", "水罚", "财罚", "规自罚", "国资罚", "医保罚")
_SLOT_CODE = ("ZJ", "JT", "SW", "CZ", "ZRZY", "GZW", "YB")
_PROVINCIAL = (
    "广东省住房和城乡建设厅", "广东省交通运输厅", "广东省水利厅", "广东省财政厅",
    "广东省自然资源厅", "广东省人民政府国有资产监督管理委员会", "广东省医疗保障局",
)
_AGGREGATORS = (
    ("信用中国（广东）", "XYZG-GD"),
    ("广东省公共资源交易平台", "GDGGZY"),
    ("全国公共资源交易平台（广东省）", "QGGGZY-GD"),
)


def _city_regulator(city: int, slot: int) -> str:
    full = _CITIES[city][1]
    if slot == 0:
        return full + ("住房和建设局" if city == 1 else "住房和城乡建设局")
    if slot == 2:
        return full + ("水利局" if city == 3 else "水务局")
    if slot == 4:
        return full + ("规划和自然资源局" if city <= 1 else "自然资源局")
    return full + {1: "交通运输局", 3: "财政局", 5: "人民政府国有资产监督管理委员会",
                   6: "医疗保障局"}[slot]


def _source_table() -> tuple[list[str], list[str], list[str]]:
    """Names, document-number prefixes and record-id codes of every source, by index:
    city regulators (city * 7 + slot), provincial regulators, trading centres, aggregators."""
    names: list[str] = []
    docs: list[str] = []
    codes: list[str] = []
    for c, (short, full, abbr, py) in enumerate(_CITIES):
        for s in range(_N_SLOTS):
            names.append(_city_regulator(c, s))
            docs.append(abbr + _SLOT_DOC[s])
            codes.append(f"{py}{_SLOT_CODE[s]}")
        del short, full
    for s in range(_N_SLOTS):
        names.append(_PROVINCIAL[s])
        docs.append("粤" + _SLOT_DOC[s])
        codes.append(f"GD{_SLOT_CODE[s]}")
    for c, (short, full, abbr, py) in enumerate(_CITIES):
        names.append((short if c <= 1 else full) + "公共资源交易中心")
        docs.append(abbr + "公管信")
        codes.append(f"{py}GGZY")
    for name, code in _AGGREGATORS:
        names.append(name)
        docs.append("")  # aggregators republish others' documents
        codes.append(code)
    return names, docs, codes


_SOURCE_NAMES, _SOURCE_DOCS, _SOURCE_CODES = _source_table()
_PROVINCIAL_BASE = len(_CITIES) * _N_SLOTS
_CENTRE_BASE = _PROVINCIAL_BASE + _N_SLOTS
_AGGREGATOR_BASE = _CENTRE_BASE + len(_CITIES)

# ---------------------------------------------------------------------------------------
# Name vocabularies
# ---------------------------------------------------------------------------------------

_TRADE_CHARS = list(dict.fromkeys(
    "宏达建信华安泰盛鑫源恒通远兴隆祥瑞丰正德诚创汇联中天合科新金鼎润和明星海峰志博辉凯立"
    "佳荣昌旺富广粤南越骏腾飞航宇尚嘉美卓智优伟誉振晟铭锦弘彩晖森林清东方永长久万实力顺"
    "利开元云龙鹏祺锐珠江穗港湾晨阳光耀益康民泽启航骅"))
# (line of business, weight) for bidders; the line also reveals the home industry.
_BIDDER_LINES: tuple[tuple[str, float], ...] = (
    ("建设工程", 10), ("建筑工程", 8), ("建筑装饰工程", 4), ("机电安装工程", 3),
    ("市政工程", 6), ("园林绿化工程", 4), ("环境工程", 2), ("路桥工程", 4), ("交通工程", 3),
    ("水利水电工程", 3), ("水务工程", 2), ("信息技术", 5), ("科技", 5), ("办公设备", 2),
    ("物业管理", 2), ("房地产开发", 2), ("矿业", 1), ("投资", 2), ("实业", 2), ("贸易", 2),
    ("医疗器械", 3), ("医药", 3),
)
_AGENT_LINES: tuple[tuple[str, float], ...] = (
    ("招标代理", 6), ("工程咨询", 4), ("建设咨询", 2), ("工程项目管理", 2),
    ("工程造价咨询", 2), ("采购代理", 2), ("招标", 2),
)
_BIDDER_FORMS: tuple[tuple[str, float], ...] = (
    ("有限公司", 70), ("股份有限公司", 8), ("有限责任公司", 12), ("集团有限公司", 10),
)
_AGENT_FORMS: tuple[tuple[str, float], ...] = (
    ("有限公司", 80), ("有限责任公司", 15), ("股份有限公司", 5),
)
# Firm name prefix styles: 广州市天河区 / 广州 / 广州市 / 广东.
_PREFIX_STYLE_P = np.array([0.35, 0.30, 0.20, 0.15])
_DEPARTMENTS = (
    "住房和建设局", "水务局", "教育局", "卫生健康局", "城市管理和综合执法局", "农业农村局",
    "交通运输局", "政务服务数据管理局", "文化广电旅游体育局", "民政局", "工业和信息化局",
    "发展和改革局",
)
_SCHOOL_KINDS = ("中学", "小学", "实验学校", "职业技术学校", "幼儿园")
_HOSPITAL_KINDS = ("医院", "中医医院", "社区卫生服务中心", "妇幼保健院")
_SOE_LINES = ("城市建设投资", "交通投资", "水务投资", "城市更新", "建设投资", "产业投资")
# Tenderer kinds: bureau (机关, USCC 11), school and hospital (事业单位, 12), state firm (91).
_TENDERER_KIND_P = np.array([0.2, 0.3, 0.2, 0.3])

_SURNAMES = "".join(dict.fromkeys(  # roughly by frequency in Guangdong
    "陈李黄张梁林刘吴罗何郑王谢杨周邓冯朱曾叶赵钟苏许潘蔡彭徐胡卢郭江余袁麦孙高"
    "马邱谭廖唐莫方欧温"))
_MALE_CHARS = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宁健俊帆建国志文海峰东永林森宇浩凯锋荣耀"
_FEMALE_CHARS = "芳娜敏静丽艳娟霞秀玲桂英红梅琳萍雪婷洁慧颖倩佳琪晶燕云莉兰凤嘉欣怡彤珊"

# Offending: relative propensity by subject type; heavy tail of records per offender.
_TYPE_PROPENSITY = {"bidder": 1.0, "expert": 0.9, "agent": 0.7, "tenderer": 0.4}
_MAX_OFFENDER_SHARE = 0.3
_LOG_WEIGHT_SIGMA = 2.0  # offenders' propensities are log-normal ...
_LOG_WEIGHT_CAP = 4.0  # ... capped at exp(4) ~ 55 times the median
_REPEAT_SAME_BEHAVIOUR = 0.3  # chance a subject's next record repeats the last behaviour
_DUPLICATE_SHARE = 0.01
_REVOKED_SHARE = 0.02
_REPAIRED_SHARE = 0.03

# ---------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, stream]))


def _p(weighted: Sequence[tuple[str, float]]) -> npt.NDArray[np.float64]:
    w = np.array([x[1] for x in weighted], dtype=np.float64)
    return np.asarray(w / w.sum(), dtype=np.float64)


def _unique_ints(rng: np.random.Generator, high: int, size: int,
                 fixed: IntArray | None = None) -> IntArray:
    """``size`` integers from ``[0, high)``, distinct (or, given ``fixed``, such that the
    pairs ``(fixed, value)`` are distinct), drawn at random; collisions are re-drawn."""
    if fixed is None and 2 * size > high:
        if size > high:
            raise ValueError(f"cannot draw {size} distinct values below {high}")
        return rng.permutation(high)[:size].astype(np.int64)
    out = rng.integers(0, high, size, dtype=np.int64)
    while True:
        key = out if fixed is None else fixed * high + out
        ordered = np.sort(key)
        repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
        if repeated.size == 0:
            return out
        pos = np.minimum(np.searchsorted(repeated, key), repeated.size - 1)
        rows = np.flatnonzero(repeated[pos] == key)
        _, first = np.unique(key[rows], return_index=True)  # keep one row of each value
        redo = np.delete(rows, first)
        out[redo] = rng.integers(0, high, redo.size, dtype=np.int64)


def _digits(values: IntArray, base: int, width: int) -> ByteArray:
    """The base-``base`` digits of ``values``, most significant first, shape (n, width)."""
    out = np.empty((values.size, width), dtype=np.uint8)
    rest = values.copy()
    for i in range(width - 1, -1, -1):
        out[:, i] = rest % base
        rest //= base
    return out


def _weighted_sum(values: npt.NDArray[np.integer], weights: Sequence[int]) -> IntArray:
    """Row sums of ``values * weights`` (one column at a time: no (n, k) temporaries)."""
    total = np.zeros(values.shape[0], dtype=np.int64)
    for i, w in enumerate(weights):
        total += values[:, i].astype(np.int64) * w
    return total


def _ascii(strings: Sequence[str]) -> ByteArray:
    """Equal-length ASCII strings as a (k, width) byte array."""
    return np.frombuffer("".join(strings).encode("ascii"), dtype=np.uint8).reshape(
        len(strings), -1).copy()


def _to_strings(chars: ByteArray, name: str) -> pl.Series:
    """Rows of an (n, width) ASCII byte array as a polars String series."""
    width = chars.shape[1]
    fixed = np.ascontiguousarray(chars).view(f"S{width}").ravel()
    return pl.Series(name, fixed).cast(pl.String)


def _pick(words: Sequence[str], idx: IntArray) -> pl.Series:
    """``words[idx]`` as a polars String series."""
    return pl.Series(list(words), dtype=pl.String).gather(idx)


def _concat(parts: Sequence[pl.Series], name: str) -> pl.Series:
    frame = pl.DataFrame(
        {f"_{i}": p for i, p in enumerate(parts)},
    )
    return frame.select(pl.concat_str(pl.all()).alias(name)).to_series()


def _days(d: dt.date) -> int:
    return (d - _EPOCH).days


def _years(days: IntArray) -> IntArray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def _draw(rng: np.random.Generator, n: int, p: npt.NDArray[np.float64]) -> IntArray:
    """``n`` indices drawn with probabilities ``p``."""
    cdf = np.cumsum(p)
    cdf /= cdf[-1]
    picked = np.searchsorted(cdf, rng.random(n), side="right")
    return np.minimum(picked, p.size - 1).astype(np.int64)


def _small(keys: IntArray) -> npt.NDArray[np.integer]:
    """Non-negative keys in the narrowest unsigned type (numpy radix-sorts those)."""
    top = int(keys.max(initial=0))
    return keys.astype(np.uint8 if top < 2**8 else np.uint16 if top < 2**16 else np.int64)


# ---------------------------------------------------------------------------------------
# Identifiers
# ---------------------------------------------------------------------------------------

_USCC_VALUE = np.zeros(256, dtype=np.uint8)
for _i, _c in enumerate(USCC_ALPHABET):
    _USCC_VALUE[ord(_c)] = _i
_USCC_BYTES = np.frombuffer(USCC_ALPHABET.encode("ascii"), dtype=np.uint8)
_ORG_VALUE = np.zeros(256, dtype=np.uint8)  # GB 11714: 0-9 and A=10 ... Z=35
for _c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ":
    _ORG_VALUE[ord(_c)] = int(_c, 36)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_CHECK = np.frombuffer(b"0123456789X0", dtype=np.uint8)  # by 11 - (sum mod 11)
_RID_CHECK_BYTES = np.frombuffer(RID_CHECK.encode("ascii"), dtype=np.uint8)
_REGION_BYTES = _ascii(_REGION_CODES)


def _usccs(rng: np.random.Generator, category: ByteArray, region: IntArray) -> ByteArray:
    """Valid, distinct USCCs as an (n, 18) byte array.

    ``category`` is (n, 2): registration authority and organisation category (b"91" for
    a company, b"11" for a government body, b"12" for a public institution). The
    organisation code (positions 9-17) is new style (``MA`` + 6 characters) for 60% of
    companies and an old 8-digit code otherwise; its last character is the GB 11714
    check character, and position 18 the GB 32100 check character.
    """
    n = region.size
    chars = np.empty((n, 18), dtype=np.uint8)
    chars[:, 0:2] = category
    chars[:, 2:8] = _REGION_BYTES[region]
    company = (category[:, 0] == ord("9"))
    new_style = company & (rng.random(n) < 0.6)
    k_new = int(new_style.sum())
    if k_new:
        body = _USCC_BYTES[_digits(_unique_ints(rng, 31**6, k_new), 31, 6)]
        chars[new_style, 8] = ord("M")
        chars[new_style, 9] = ord("A")
        chars[new_style, 10:16] = body
    old = ~new_style
    k_old = int(old.sum())
    if k_old:
        chars[old, 8:16] = 48 + _digits(_unique_ints(rng, 10**8, k_old), 10, 8)
    org_sum = _weighted_sum(_ORG_VALUE[chars[:, 8:16]], _ORG_WEIGHTS)
    chars[:, 16] = _ORG_CHECK[11 - org_sum % 11]
    total = _weighted_sum(_USCC_VALUE[chars[:, :17]], USCC_WEIGHTS)
    chars[:, 17] = _USCC_BYTES[(31 - total % 31) % 31]
    return chars


_BIRTH_FIRST = _days(dt.date(1955, 1, 1))
_BIRTH_SPAN = _days(dt.date(1995, 12, 31)) - _BIRTH_FIRST + 1


def _resident_ids(rng: np.random.Generator, n: int) -> tuple[ByteArray, npt.NDArray[np.bool_]]:
    """Valid, distinct resident ID numbers as an (n, 18) byte array, and whether each
    holder is male (odd 17th digit)."""
    region = _draw(rng, n, _REGION_P)
    key = _unique_ints(rng, _BIRTH_SPAN * 1000, n, fixed=region)
    birth = _BIRTH_FIRST + key // 1000
    seq = key % 1000
    chars = np.empty((n, 18), dtype=np.uint8)
    chars[:, 0:6] = _REGION_BYTES[region]
    d = birth.astype("datetime64[D]")
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    month = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    ymd = year * 10000 + month * 100 + day
    chars[:, 6:14] = 48 + _digits(ymd, 10, 8)
    chars[:, 14:17] = 48 + _digits(seq, 10, 3)
    total = _weighted_sum(chars[:, :17] - 48, RID_WEIGHTS)
    chars[:, 17] = _RID_CHECK_BYTES[total % 11]
    return chars, (seq % 2 == 1)


# ---------------------------------------------------------------------------------------
# Subjects
# ---------------------------------------------------------------------------------------


def _trade_names(rng: np.random.Generator, n: int) -> pl.Series:
    """Two distinct auspicious characters: 宏达, 鑫泰 ..."""
    k = len(_TRADE_CHARS)
    first = rng.integers(0, k, n)
    second = (first + rng.integers(1, k, n)) % k
    return _concat([_pick(_TRADE_CHARS, first), _pick(_TRADE_CHARS, second)], "trade")


def _firm_names(rng: np.random.Generator, region: IntArray,
                lines: Sequence[tuple[str, float]],
                forms: Sequence[tuple[str, float]]) -> pl.Series:
    n = region.size
    style = _draw(rng, n, _PREFIX_STYLE_P)
    table = [p for i in range(len(REGIONS)) for p in (
        _region_prefix(i), _CITIES[REGIONS[i][1]][0], _CITIES[REGIONS[i][1]][1], "广东")]
    prefix = _pick(table, region * 4 + style)
    line = _pick([x[0] for x in lines], _draw(rng, n, _p(lines)))
    form = _pick([x[0] for x in forms], _draw(rng, n, _p(forms)))
    return _concat([prefix, _trade_names(rng, n), line, form], "subject_name")


def _tenderers(rng: np.random.Generator, n: int) -> tuple[ByteArray, IntArray, pl.Series]:
    """Tenderers (bureaus, schools, hospitals, state firms): USCC category bytes, region
    indices and names."""
    kind = np.sort(_draw(rng, n, _TENDERER_KIND_P))
    region = _draw(rng, n, _REGION_P)
    prefixes = [_region_prefix(i) for i in range(len(REGIONS))]
    # Bureaus: distinct (region, department) pairs while there are enough of them.
    b = int((kind == 0).sum())
    combos = rng.permutation(len(REGIONS) * len(_DEPARTMENTS)).astype(np.int64)
    pair = combos[np.arange(b) % combos.size]
    region[:b] = pair // len(_DEPARTMENTS)
    parts = [_concat([_pick(prefixes, region[:b]),
                      _pick(_DEPARTMENTS, pair % len(_DEPARTMENTS))], "subject_name")]
    for k, kinds in ((1, _SCHOOL_KINDS), (2, _HOSPITAL_KINDS)):
        m = np.flatnonzero(kind == k)
        parts.append(_concat([_pick(prefixes, region[m]), _trade_names(rng, m.size),
                              _pick(kinds, rng.integers(0, len(kinds), m.size))],
                             "subject_name"))
    m = np.flatnonzero(kind == 3)
    city_full = [_CITIES[REGIONS[i][1]][1] for i in range(len(REGIONS))]
    parts.append(_concat([_pick(city_full, region[m]), _trade_names(rng, m.size),
                          _pick(_SOE_LINES, rng.integers(0, len(_SOE_LINES), m.size)),
                          _pick(["集团有限公司"], np.zeros(m.size, np.int64))],
                         "subject_name"))
    category = _ascii(["11", "12", "12", "91"])[kind]
    return category, region, pl.concat(parts)


def _personal_names(rng: np.random.Generator, male: npt.NDArray[np.bool_]) -> pl.Series:
    n = male.size
    s_w = 1.0 / (np.arange(len(_SURNAMES)) + 4.0)
    surname = _pick(list(_SURNAMES), _draw(rng, n, s_w / s_w.sum()))
    pool = np.array(list(_MALE_CHARS) + list(_FEMALE_CHARS))
    k_m, k_f = len(_MALE_CHARS), len(_FEMALE_CHARS)

    def given() -> IntArray:
        return np.where(male, rng.integers(0, k_m, n), k_m + rng.integers(0, k_f, n))

    first = _pick(pool.tolist(), given())
    second = _pick(pool.tolist(), given())
    two = pl.Series(rng.random(n) < 0.65)
    second = pl.select(pl.when(two).then(second).otherwise(pl.lit(""))).to_series()
    return _concat([surname, first, second], "subject_name")


def generate_subjects(n_subjects: int, seed: int = 0) -> pl.DataFrame:
    """Synthetic subjects with columns ``subject_id, subject_type, subject_name``.

    About 60% bidders, 20% experts, 10% agents and 10% tenderers. Bidders, agents and
    tenderers have valid USCCs with Guangdong region codes; experts have valid resident
    ID numbers (born 1955-1995) and personal names. About 3% of bidders also appear as
    agents with the same code and name (counted among the agents). Rows come in the
    order bidders, agents, tenderers, experts; ``(subject_id, subject_type)`` is unique
    and a subject_id is shared only by such two-role firms.
    """
    if n_subjects < 0:
        raise ValueError("n_subjects must not be negative")
    if n_subjects == 0:
        return pl.DataFrame(schema=SUBJECT_SCHEMA)
    rng = _rng(seed, 1)
    n_b = round(n_subjects * SUBJECT_SHARES["bidder"])
    n_e = round(n_subjects * SUBJECT_SHARES["expert"])
    n_t = round(n_subjects * SUBJECT_SHARES["tenderer"])
    n_a = n_subjects - n_b - n_e - n_t
    n_dual = min(round(n_b * DUAL_ROLE_SHARE), n_a // 2)
    n_own = n_a - n_dual  # agents with a code of their own

    firm_region = _draw(rng, n_b + n_own, _REGION_P)
    bidder_names = _firm_names(rng, firm_region[:n_b], _BIDDER_LINES, _BIDDER_FORMS)
    agent_names = _firm_names(rng, firm_region[n_b:], _AGENT_LINES, _AGENT_FORMS)
    ten_category, ten_region, ten_names = _tenderers(rng, n_t)
    # One batch of distinct USCCs for bidders, own-code agents and tenderers.
    category = np.concatenate([np.tile(_ascii(["91"]), (n_b + n_own, 1)), ten_category])
    usccs = _usccs(rng, category, np.concatenate([firm_region, ten_region]))
    dual = np.sort(_unique_ints(rng, n_b, n_dual)) if n_dual else np.zeros(0, np.int64)
    rids, male = _resident_ids(rng, n_e)

    ids = pl.concat([
        _to_strings(usccs[: n_b + n_own], "subject_id"),
        _to_strings(usccs[dual], "subject_id"),
        _to_strings(usccs[n_b + n_own:], "subject_id"),
        _to_strings(rids, "subject_id"),
    ])
    names = pl.concat([bidder_names, agent_names, bidder_names.gather(dual), ten_names,
                       _personal_names(rng, male)])
    types = np.repeat(np.arange(4, dtype=np.int64), [n_b, n_a, n_t, n_e])
    return pl.DataFrame({
        "subject_id": ids,
        "subject_type": _pick(["bidder", "agent", "tenderer", "expert"], types),
        "subject_name": names,
    }).rechunk()


# ---------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------


def _behaviour_tables(rules: RuleSet) -> list[tuple[IntArray, npt.NDArray[np.float64]]]:
    """Per subject type (SUBJECT_TYPES order): behaviour indices and their probabilities,
    weighted toward minor behaviours (inverse to points)."""
    tables = []
    for t in SUBJECT_TYPES:
        idx = [i for i, b in enumerate(rules.behaviour) if t in b.subject_types]
        w = np.array([1.0 / float(rules.behaviour[i].points) for i in idx])
        tables.append((np.array(idx, dtype=np.int64), w / w.sum() if idx else w))
    return tables


def _home_industry(names: pl.Series, rng: np.random.Generator) -> IntArray:
    """Industry revealed by a name's words; a random industry where the name says none."""
    expr: pl.Expr = pl.lit(-1, pl.Int64)
    for ind, pattern in reversed(_INDUSTRY_KEYWORDS):
        expr = pl.when(pl.col("n").str.contains(pattern)).then(
            pl.lit(_INDUSTRIES.index(ind), pl.Int64)).otherwise(expr)
    found = pl.DataFrame({"n": names}).select(expr).to_series().to_numpy().astype(np.int64)
    return np.where(found >= 0, found, _draw(rng, found.size, _INDUSTRY_P))


def _home_region(ids: pl.Series, types: IntArray) -> IntArray:
    """Region index of the code embedded in a subject's identifier, or -1."""
    lookup = {c: i for i, c in enumerate(_REGION_CODES)}
    expert = SUBJECT_TYPES.index("expert")
    frame = pl.DataFrame({"id": ids, "expert": types == expert})
    code = pl.when(pl.col("expert")).then(pl.col("id").str.slice(0, 6)).otherwise(
        pl.col("id").str.slice(2, 6))
    out = frame.select(code.replace_strict(lookup, default=-1, return_dtype=pl.Int64))
    return out.to_series().to_numpy().astype(np.int64)


def _order(*keys: IntArray) -> IntArray:
    """The stable lexicographic order of rows by non-negative ``keys`` (most significant
    first), by successive radix sorts: deterministic on every platform."""
    order = np.arange(keys[0].size, dtype=np.int64)
    for k in reversed(keys):
        order = order[np.argsort(_small(k[order]), kind="stable")]
    return order


def _within_group_rank(keys: IntArray) -> IntArray:
    """0-based position of each row among the rows with the same key, in row order."""
    order = np.argsort(_small(keys), kind="stable")
    sk = keys[order]
    start = np.r_[True, sk[1:] != sk[:-1]]
    pos = np.arange(keys.size, dtype=np.int64)
    first = np.maximum.accumulate(np.where(start, pos, 0))
    rank = np.empty(keys.size, dtype=np.int64)
    rank[order] = pos - first
    return rank


def _offences(rng: np.random.Generator, stype: IntArray, eligible: IntArray, n_orig: int,
              tables: list[tuple[IntArray, npt.NDArray[np.float64]]], d0: int,
              d1: int) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Who offended, how often, with which behaviour and when.

    Returns the offenders (subject rows) and, per record, the offender's position,
    the behaviour index and the decision day. Records come grouped by offender.
    """
    # Offenders: a share of eligible subjects (weighted by type), heavy-tailed counts.
    ratio = n_orig / eligible.size
    n_off = int(np.clip(round(eligible.size * min(_MAX_OFFENDER_SHARE, ratio / 1.6)), 1,
                        min(eligible.size, n_orig)))
    propensity = np.array([_TYPE_PROPENSITY[t] for t in SUBJECT_TYPES])[stype[eligible]]
    keys = np.log(rng.random(eligible.size)) / propensity  # Efraimidis-Spirakis
    offenders = np.sort(eligible[np.argpartition(-keys, n_off - 1)[:n_off]])
    weight = np.exp(np.minimum(rng.normal(0.0, _LOG_WEIGHT_SIGMA, n_off), _LOG_WEIGHT_CAP))
    counts = 1 + rng.multinomial(n_orig - n_off, weight / weight.sum())
    rec_off = np.repeat(np.arange(n_off, dtype=np.int64), counts)

    # Runs of one behaviour within an offender's records, decided 15-330 days apart.
    run_start = np.r_[True, rec_off[1:] != rec_off[:-1]]
    run_start |= rng.random(n_orig) >= _REPEAT_SAME_BEHAVIOUR
    run_first = np.flatnonzero(run_start)
    run_id = np.cumsum(run_start) - 1
    n_runs = run_first.size
    run_type = stype[offenders[rec_off[run_first]]]
    run_beh = np.zeros(n_runs, dtype=np.int64)
    for t, (idx, p) in enumerate(tables):
        m = run_type == t
        if m.any():
            run_beh[m] = idx[_draw(rng, int(m.sum()), p)]
    gaps = rng.integers(15, 331, n_orig, dtype=np.int64)
    gaps[run_start] = 0
    del run_start
    offset = np.cumsum(gaps)
    del gaps
    offset -= offset[run_first][run_id]
    span = offset[np.r_[run_first[1:] - 1, n_orig - 1]]
    run_day = d0 + rng.integers(0, d1 - d0 + 1, n_runs, dtype=np.int64)
    run_day = np.maximum(np.minimum(run_day, d1 - span), d0)
    decided = np.minimum(run_day[run_id] + offset, d1)
    return offenders, rec_off, run_beh[run_id], decided


def _sources(rng: np.random.Generator, subjects: pl.DataFrame, offenders: IntArray,
             off_type: IntArray, rec_off: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Industry, region and source of each record: mostly the offender's home industry
    (from its name) and region (from its identifier), the regulator of that industry in
    that city, sometimes the province, and for experts often the trading centre."""
    n = rec_off.size
    home_ind = _home_industry(subjects.get_column("subject_name").gather(offenders), rng)
    home_reg = _home_region(subjects.get_column("subject_id").gather(offenders), off_type)
    industry = np.where(rng.random(n) < 0.75, home_ind[rec_off], _draw(rng, n, _INDUSTRY_P))
    own = home_reg[rec_off]
    region = np.where((rng.random(n) < 0.5) & (own >= 0), own, _draw(rng, n, _REGION_P))
    city = _REGION_CITY[region]
    slot = _SLOT_OF_INDUSTRY[industry]
    source = np.where(rng.random(n) < 0.12, _PROVINCIAL_BASE + slot, city * _N_SLOTS + slot)
    at_centre = off_type[rec_off] == SUBJECT_TYPES.index("expert")
    at_centre &= rng.random(n) < 0.5
    source[at_centre] = _CENTRE_BASE + city[at_centre]
    return industry, region, source


def _document_numbers(rng: np.random.Generator, source: IntArray, decided: IntArray,
                      year: IntArray, d0: int) -> IntArray:
    """Document serial numbers, per source and year, rising with the decision day (with
    gaps: an authority numbers other documents in the same series)."""
    n = source.size
    order = _order(source, decided - d0)
    group = (source * 10000 + year)[order]
    new = np.r_[True, group[1:] != group[:-1]]
    del group
    step = rng.integers(1, 4, n, dtype=np.int64)
    step[new] = rng.integers(1, 30, int(new.sum()), dtype=np.int64)
    serial = np.cumsum(step)
    first = np.maximum.accumulate(np.where(new, np.arange(n, dtype=np.int64), 0))
    serial -= serial[first] - step[first]
    out = np.empty(n, dtype=np.int64)
    out[order] = serial
    return out


def generate_records(subjects: pl.DataFrame, n_records: int, rules: RuleSet, seed: int = 0,
                     start: dt.date = dt.date(2021, 1, 1),
                     end: dt.date = dt.date(2026, 11, 25)) -> pl.DataFrame:
    """Synthetic penalty records in the canonical schema (``records.RECORD_SCHEMA``).

    Exactly ``n_records`` rows about ``subjects`` (columns ``subject_id, subject_type,
    subject_name``). Most subjects stay clean; offenders get a heavy-tailed number of
    records (some repeating a behaviour within a year). Behaviours are those ``rules``
    allows for the subject's type, inversely weighted by points. ``decided_on`` is
    spread over ``start..end``, ``recorded_on`` follows within 30 days; about 2% of
    records are revoked and 3% repaired later; about 1% are a second publication of the
    same act (same subject, behaviour, decided_on and document_no) by an aggregating
    source. Every date is ``<= end``; ``(source, record_id)`` is unique; rows are in
    the order they were recorded.
    """
    if n_records < 0:
        raise ValueError("n_records must not be negative")
    if end < start:
        raise ValueError("end must not be before start")
    if n_records == 0:
        return empty_records()
    rng = _rng(seed, 2)
    tables = _behaviour_tables(rules)
    type_of = {t: i for i, t in enumerate(SUBJECT_TYPES)}
    stype = subjects.get_column("subject_type").str.to_lowercase().replace_strict(
        type_of, default=-1, return_dtype=pl.Int64).to_numpy().astype(np.int64)
    has_rules = np.array([t[0].size > 0 for t in tables] + [False])
    eligible = np.flatnonzero(has_rules[stype])  # stype -1 indexes the trailing False
    if eligible.size == 0:
        raise ValueError("no subject has a type that the rule set has behaviours for")
    d0, d1 = _days(start), _days(end)
    n_dup = round(n_records * _DUPLICATE_SHARE)
    n_orig = n_records - n_dup

    offenders, rec_off, beh, decided = _offences(rng, stype, eligible, n_orig, tables, d0, d1)
    off_type = stype[offenders]
    del stype, eligible
    industry, region, source = _sources(rng, subjects, offenders, off_type, rec_off)
    recorded = np.minimum(decided + rng.integers(0, 31, n_orig, dtype=np.int64), d1)
    year = _years(decided)
    doc_seq = _document_numbers(rng, source, decided, year, d0)

    # Revocations and repairs (disjoint), after the record reached the system.
    u = rng.random(n_orig)
    open_ = recorded < d1
    revoked = np.where(open_ & (u < _REVOKED_SHARE),
                       np.minimum(recorded + rng.integers(1, 121, n_orig), d1), -1)
    repair_day = np.maximum(recorded + 1, decided + rng.integers(90, 541, n_orig))
    repaired = np.where(open_ & (u >= _REVOKED_SHARE) & (u < _REVOKED_SHARE + _REPAIRED_SHARE),
                        np.minimum(repair_day, d1), -1)
    del u, open_, repair_day

    # Second publications of the same act by an aggregator (the document number stays
    # that of the first source); ``act`` is the original row of every row.
    publisher = source
    act = np.arange(n_orig, dtype=np.int64)
    if n_dup:
        copy = _unique_ints(rng, n_orig, n_dup)
        act = np.concatenate([act, copy])
        dup_recorded = np.minimum(recorded[copy] + rng.integers(0, 31, n_dup), d1)
        recorded = np.concatenate([recorded, dup_recorded])
        publisher = np.concatenate([source, _AGGREGATOR_BASE + rng.integers(
            0, len(_AGGREGATORS), n_dup, dtype=np.int64)])

        def later(a: IntArray) -> IntArray:
            c = a[copy]
            return np.concatenate([a, np.where(c >= 0, np.maximum(c, dup_recorded), -1)])

        revoked, repaired = later(revoked), later(repaired)

    # Rows in the order they reached the system; record ids count up per source.
    final = _order(recorded - d0, publisher)
    act, publisher = act[final], publisher[final]
    rid_base = rng.integers(1000, 50000, len(_SOURCE_NAMES), dtype=np.int64)
    record_no = rid_base[publisher] + _within_group_rank(publisher)
    numbers = pl.DataFrame({
        "_pub": publisher.astype(np.uint8),
        "_no": record_no.astype(np.int32),
        "_ind": industry[act].astype(np.uint8),
        "_reg": region[act].astype(np.uint8),
        "_off": rec_off[act].astype(np.int32),
        "_type": off_type[rec_off[act]].astype(np.uint8),
        "_beh": beh[act].astype(np.int32),
        "_dec": decided[act].astype(np.int32),
        "_rec": recorded[final].astype(np.int32),
        "_doc": source[act].astype(np.uint8),
        "_year": year[act].astype(np.int32),
        "_seq": doc_seq[act].astype(np.int32),
        "_rev": revoked[final].astype(np.int32),
        "_rep": repaired[final].astype(np.int32),
    })
    del act, final, publisher, record_no, industry, region, rec_off, beh, decided, recorded
    del source, year, doc_seq, revoked, repaired
    # Offenders' own rows are contiguous and few: gathering from them is much faster.
    off = subjects.select(pl.col("subject_id", "subject_name").gather(offenders)).rechunk()

    def lookup(values: Sequence[str] | pl.Series, col: str) -> pl.Expr:
        return pl.lit(pl.Series(values, dtype=pl.String)).gather(pl.col(col))

    def as_date(col: str) -> pl.Expr:
        c = pl.col(col)
        return pl.when(c >= 0).then(c).cast(pl.Date)

    out = numbers.lazy().select(
        pl.concat_str(lookup(_SOURCE_CODES, "_pub"), pl.lit("-"),
                      pl.col("_no").cast(pl.String).str.zfill(8)).alias("record_id"),
        lookup(_SOURCE_NAMES, "_pub").alias("source"),
        lookup(_INDUSTRIES, "_ind").alias("industry"),
        lookup(_REGION_CODES, "_reg").alias("region"),
        lookup(off.get_column("subject_id"), "_off").alias("subject_id"),
        lookup(off.get_column("subject_name"), "_off").alias("subject_name"),
        lookup(SUBJECT_TYPES, "_type").alias("subject_type"),
        lookup([b.code for b in rules.behaviour], "_beh").alias("behaviour_code"),
        as_date("_dec").alias("decided_on"),
        as_date("_rec").alias("recorded_on"),
        pl.concat_str(lookup(_SOURCE_DOCS, "_doc"), pl.lit("〔"),
                      pl.col("_year").cast(pl.String), pl.lit("〕"),
                      pl.col("_seq").cast(pl.String), pl.lit("号")).alias("document_no"),
        as_date("_rev").alias("revoked_on"),
        as_date("_rep").alias("repaired_on"),
        lookup(_SOURCE_NAMES, "_doc").alias("authority"),
        pl.col("_beh"),
    ).collect()
    return _with_decisions(out, rules, seed).select(list(RECORD_SCHEMA)).cast(
        RECORD_SCHEMA)  # type: ignore[arg-type]


def _procurement_twins(records: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """Where the Tendering Law and the Government Procurement Law punish the same act under
    two codes (``X`` and ``X-GP``), a procurement record takes the ``-GP`` code and any
    other record the plain one (for the same subject type)."""
    number = {b.code: i for i, b in enumerate(rules.behaviour)}
    types = {b.code: set(b.subject_types) for b in rules.behaviour}
    to_gp = {number[c]: number[c + "-GP"] for c in number
             if c + "-GP" in number and types[c] == types[c + "-GP"]}
    if not to_gp:
        return records
    from_gp = {gp: plain for plain, gp in to_gp.items()}
    procurement = pl.col("industry") == "procurement"
    beh = pl.when(procurement).then(pl.col("_beh").replace(to_gp)).otherwise(
        pl.col("_beh").replace(from_gp))
    codes = pl.Series([b.code for b in rules.behaviour], dtype=pl.String)
    return records.with_columns(beh.alias("_beh")).with_columns(
        pl.lit(codes).gather(pl.col("_beh")).alias("behaviour_code"))


def _with_decisions(records: pl.DataFrame, rules: RuleSet, seed: int) -> pl.DataFrame:
    """What a published decision states beyond the act (双公示): its basis (the
    behaviour's provision), its publication deadline (the deduction's duration, at least
    a year and at most three, the maximum publication period of a penalty) and, for
    behaviours with a statutory range, the bar it imposes: a period drawn inside the range
    for most decisions (about one in five states none and takes the default), within the
    behaviour's scope. Copies of an act published by two sources state the same (the
    draws are a hash of the act)."""
    records = _procurement_twins(records, rules)
    beh = records.get_column("_beh").to_numpy()
    act = records.select(pl.struct("subject_id", "behaviour_code", "decided_on", "document_no")
                         .hash(seed).alias("h")).get_column("h").to_numpy()
    u = (act >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    u2 = ((act * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(11)).astype(np.float64) / float(
        1 << 53)
    lo = np.array([b.restrict_min_days or 0 for b in rules.behaviour], dtype=np.int64)[beh]
    hi = np.array([b.restrict_max_days or 0 for b in rules.behaviour], dtype=np.int64)[beh]
    days = np.array([b.days for b in rules.behaviour], dtype=np.int64)[beh]
    states = (hi > 0) & (u < 0.8)
    period = lo + np.floor(u2 * (hi - lo + 1)).astype(np.int64)
    basis = [b.basis for b in rules.behaviour]
    return records.with_columns(
        pl.lit(pl.Series(basis, dtype=pl.String)).gather(pl.col("_beh")).alias("basis"),
        (pl.col("decided_on") + pl.duration(days=pl.lit(np.clip(days, 365, 1095) - 1)))
        .alias("publish_until"),
        pl.when(pl.lit(states)).then(
            pl.col("decided_on") + pl.duration(days=pl.lit(period) - 1)).alias("restrict_until"),
        pl.lit(None, pl.String).alias("restrict_scope"),
    ).drop("_beh")


def generate(n_subjects: int, n_records: int, rules: RuleSet,
             seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Subjects and records in one call: ``(subjects, records)``."""
    subjects = generate_subjects(n_subjects, seed)
    return subjects, generate_records(subjects, n_records, rules, seed)


def write_sample(out_dir: Path, n_subjects: int = 5000, n_records: int = 8000,
                 seed: int = 20261126, rules: RuleSet | None = None) -> None:
    """Write ``records.csv`` and ``subjects.csv`` (UTF-8, ISO dates, empty for nulls)
    into ``out_dir`` (created if missing), using the default rule set unless given."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    subjects, records = generate(n_subjects, n_records, rules or load_rules(), seed)
    records.write_csv(out / "records.csv", date_format="%Y-%m-%d", null_value="")
    subjects.write_csv(out / "subjects.csv")
