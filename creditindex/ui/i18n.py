"""Every user-facing text of the app in one catalogue: Chinese by default, English on
request. Pages call :func:`t` with a key; a test checks that every key has both
languages and that pages carry no literal text of their own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

LANGS: tuple[str, ...] = ("zh", "en")
DEFAULT_LANG = "zh"
LANG_KEY = "lang"

CATALOGUE: dict[str, dict[str, str]] = {}  # filled from _TEXTS at the end of the module


def current_lang() -> str:
    """The language of the running session (Chinese outside a Streamlit session)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if get_script_run_ctx(suppress_warning=True) is None:
        return DEFAULT_LANG
    import streamlit as st

    lang = st.session_state.get(LANG_KEY, DEFAULT_LANG)
    return lang if lang in LANGS else DEFAULT_LANG


def t(key: str, lang: str | None = None, **kwargs: Any) -> str:
    """The text of ``key`` in ``lang`` (default: the session's), formatted with
    ``kwargs``. An unknown key raises ``KeyError``: the catalogue must hold every text."""
    entry = CATALOGUE[key]
    text = entry[lang or current_lang()]
    return text.format(**kwargs) if kwargs else text


def has(key: str) -> bool:
    """Whether the catalogue holds ``key``."""
    return key in CATALOGUE


def labeller(prefix: str, none_key: str | None = None) -> Callable[[Any], str]:
    """A ``format_func`` for widgets whose options are codes: each code's text
    ``prefix.code`` (``none_key`` for ``None``) in the language of the run that made it."""
    lang = current_lang()

    def label(code: Any) -> str:
        if code is None and none_key is not None:
            return t(none_key, lang)
        return tr(prefix, code, lang)

    return label


def lang_key(key: str) -> str:
    """A widget key that changes with the language, for choosers that show the text of
    the chosen option (they start afresh, in the new language, when it changes)."""
    lang = current_lang()
    return key if lang == DEFAULT_LANG else f"{key}@{lang}"


def tr(prefix: str, code: object, lang: str | None = None) -> str:
    """The text of a code from the data (``prefix.code``), or the code itself when the
    catalogue has no text for it (an industry or a list name it does not know)."""
    key = f"{prefix}.{code}"
    return t(key, lang) if key in CATALOGUE else str(code)


# The texts: key -> (中文, English).
_TEXTS: dict[str, tuple[str, str]] = {
    # app frame
    "app.title": ("公共资源交易信用指数", "Public-resource trading credit index"),
    "app.sample_notice": ("当前使用内置样例数据库（数据均为虚构）。",
                          "Running on the bundled sample database (all data invented)."),
    "lang.label": ("语言 Language", "语言 Language"),
    "lang.zh": ("中文", "中文"),
    "lang.en": ("English", "English"),
    "section.public": ("公共服务", "Public"),
    "section.staff": ("业务办理", "Staff"),
    "section.regulator": ("监管", "Regulator"),
    "section.account": ("账户", "Account"),
    "page.rankings": ("信用排名", "Rankings"),
    "page.profile": ("主体信用档案", "Subject profile"),
    "page.eligibility": ("资格核查", "Eligibility check"),
    "page.imports": ("数据导入", "Imports"),
    "page.lifecycle": ("异议与修复", "Objections & repair"),
    "page.audit": ("审计日志", "Audit log"),
    "page.rules": ("评分规则", "Rule tuning"),
    "page.signin": ("登录", "Sign in"),
    "page.account": ("我的账户", "My account"),
    "page.verify": ("证明核验", "Verify a certificate"),
    "yes": ("是", "Yes"),
    "no": ("否", "No"),
    "action.failed": ("操作未完成：{why}", "The action was not carried out: {why}"),
    "action.done": ("已完成。", "Done."),
    "table.empty": ("无数据", "Nothing to show"),
    "rules.problems": ("草案有 {n} 个问题，修正前不能试算或发布：",
                       "The draft has {n} problem(s); fix them before trying or publishing it:"),
    "elig.yes": ("✔ 符合", "✔ eligible"),
    "elig.no": ("✘ 不符合", "✘ not eligible"),
    "problems.count": ("发现 {n} 个问题，未做任何更改。请修正后重试：",
                       "{n} problem(s) found; nothing was changed. Fix them and try again:"),
    # roles, permissions, sign-in
    "role.public": ("公众", "public"),
    "role.staff": ("交易中心工作人员", "trading-centre staff"),
    "role.regulator": ("监管部门", "regulator"),
    "perm.view": ("查看信用排名、主体档案，进行资格核查",
                  "view rankings and profiles, check eligibility"),
    "perm.import": ("导入不良行为记录与联合惩戒名单", "import penalty records and list entries"),
    "perm.lifecycle": ("处理异议、信用修复和人工限制",
                       "handle objections, credit repair and manual restrictions"),
    "perm.audit": ("查阅审计日志", "read the audit log"),
    "perm.rules": ("编辑、试算并发布评分规则", "edit, try out and publish rule sets"),
    "auth.refused": ("无权执行此操作：当前身份为「{role}」。",
                     "Not allowed: you are signed in as {role}."),
    "auth.sign_in_first": ("请先登录具有相应权限的账户。",
                           "Sign in with an account that has this permission."),
    "auth.signed_in_as": ("已登录：{user}（{role}）", "Signed in as {user} ({role})"),
    "auth.browsing_public": ("以公众身份浏览。工作人员和监管部门请登录。",
                             "Browsing as the public. Staff and regulators, please sign in."),
    "signin.title": ("登录", "Sign in"),
    "signin.caption": ("交易中心工作人员和监管部门登录后可使用更多功能；公众无需登录即可查询。",
                       "Staff and regulators sign in for their pages; the public may look "
                       "things up without an account."),
    "signin.username": ("用户名", "User name"),
    "signin.password": ("密码", "Password"),
    "signin.submit": ("登录", "Sign in"),
    "signin.ok": ("登录成功。", "Signed in."),
    "signin.failed": ("用户名或密码错误。", "Wrong user name or password."),
    "signin.empty": ("请输入用户名和密码。", "Enter a user name and a password."),
    "signin.locked": ("失败次数过多，请一分钟后再试。",
                      "Too many failed attempts; try again in a minute."),
    "signin.demo_title": ("演示账户", "Demo accounts"),
    "signin.demo_caption": ("仅在内置样例数据库上显示，正式部署不会出现。",
                            "Shown only on the bundled sample database, never in production."),
    "account.title": ("我的账户", "My account"),
    "account.may": ("此身份可以：", "This role may:"),
    "account.sign_out": ("退出登录", "Sign out"),
    # shared pickers and filters
    "day.on": ("评价日", "Day"),
    "day.on_help": ("查看哪一天的信用状况（每日一评）。",
                    "The day whose credit standing you want (evaluated daily)."),
    "day.known_same": ("按当日已知数据", "As known that day"),
    "day.known_help": ("取消勾选可指定「数据截至日」：仅使用该日之前已录入的记录，"
                       "用于重现历史结论。",
                       "Untick to choose the day the data are known on: only records that "
                       "had reached the system by then count (to reproduce a past answer)."),
    "day.known_on": ("数据截至日", "Known on"),
    "type.bidder": ("投标人 / 供应商", "Bidders / suppliers"),
    "type.agent": ("招标代理机构", "Tendering agents"),
    "type.tenderer": ("招标人 / 采购人", "Tenderers / purchasers"),
    "type.expert": ("评标专家", "Evaluation experts"),
    "filter.subject_type": ("主体类型", "Subject type"),
    "filter.all_types": ("全部类型", "All types"),
    "filter.grade": ("等级", "Grade"),
    "filter.industry": ("行业（有记录）", "Industry (of records)"),
    "filter.region": ("注册地区", "Registered region"),
    "filter.restricted": ("限制状态", "Restriction"),
    "filter.restricted.None": ("全部", "All"),
    "filter.restricted.True": ("受限制", "Restricted"),
    "filter.restricted.False": ("未受限制", "Not restricted"),
    "filter.any": ("不限", "Any"),
    "filter.search": ("按名称或代码搜索", "Search by name or code"),
    "filter.search_hint": ("名称关键字或统一社会信用代码", "Part of a name, or a credit code"),
    "industry.housing": ("房屋建筑", "Housing"),
    "industry.municipal": ("市政", "Municipal works"),
    "industry.transport": ("交通", "Transport"),
    "industry.water": ("水利", "Water"),
    "industry.procurement": ("政府采购", "Government procurement"),
    "industry.land": ("土地矿业权", "Land"),
    "industry.property": ("国有产权", "State property"),
    "industry.medical": ("医药采购", "Medical procurement"),
    "industry.other": ("其他", "Other"),
    # rankings
    "rankings.title": ("信用排名", "Credit rankings"),
    "rankings.caption": ("满分100分、只减分不加分；一处受罚、处处受制。排名按主体类型分别计算。",
                         "100 points, deduct only; a penalty anywhere counts everywhere. "
                         "Ranks are within each subject type."),
    "rankings.computing": ("正在计算……", "Computing…"),
    "rankings.subjects": ("主体数", "Subjects"),
    "rankings.matching": ("符合条件", "Matching"),
    "rankings.restricted": ("其中受限制", "Restricted among them"),
    "rankings.mean_index": ("平均信用指数", "Mean index"),
    "rankings.distribution": ("等级分布", "Grade distribution"),
    "rankings.page_size": ("每页行数", "Rows per page"),
    "rankings.page_info": ("第 {page}/{pages} 页，第 {first}–{last} 条，共 {total} 条",
                           "Page {page} of {pages}: rows {first}–{last} of {total}"),
    "rankings.lowest_first": ("最低分在前", "Lowest first"),
    "rankings.open_subject": ("查看主体档案", "Open a subject's profile"),
    "rankings.open": ("打开档案", "Open profile"),
    "rankings.download_csv": ("下载 CSV", "Download CSV"),
    "rankings.download_xlsx": ("下载 Excel", "Download Excel"),
    # columns
    "col.rank": ("排名", "Rank"),
    "col.public_id": ("代码", "Code"),
    "col.subject_id": ("代码", "Code"),
    "col.subject_name": ("名称", "Name"),
    "col.subject_type": ("主体类型", "Subject type"),
    "col.index": ("信用指数", "Index"),
    "col.grade": ("等级", "Grade"),
    "col.restricted": ("受限制", "Restricted"),
    "col.deducted": ("扣分", "Deducted"),
    "col.region": ("地区", "Region"),
    "col.reasons": ("原因", "Reasons"),
    "col.record_id": ("记录编号", "Record"),
    "col.behaviour": ("不良行为", "Behaviour"),
    "col.points": ("扣分", "Points"),
    "col.decided_on": ("处罚决定日", "Decided on"),
    "col.expires_on": ("失效日", "Expires on"),
    "col.industry": ("行业", "Industry"),
    "col.source": ("发布机关", "Source"),
    "col.document_no": ("文号", "Document no."),
    "col.factor": ("倍数", "Factor"),
    "col.status": ("状态", "Status"),
    "col.nominal_points": ("规定分值", "Rule points"),
    "col.nominal_end": ("期满日", "Ends on"),
    "col.recorded_on": ("录入日", "Recorded on"),
    "col.revoked_on": ("撤销日", "Revoked on"),
    "col.repaired_on": ("修复日", "Repaired on"),
    "col.cause": ("限制类别", "Cause"),
    "col.code": ("代码", "Code"),
    "col.detail": ("说明", "Detail"),
    "col.since": ("起始日", "Since"),
    "col.until": ("截止日", "Until"),
    "col.kind": ("事项", "Event"),
    "col.effective_on": ("生效日", "Effective on"),
    "col.outcome": ("结论", "Outcome"),
    "col.reason": ("理由", "Reason"),
    "col.at": ("时间（UTC）", "At (UTC)"),
    "col.by": ("操作人", "By"),
    "col.eligible": ("符合资格", "Eligible"),
    "col.date": ("日期", "Date"),
    "col.file": ("文件", "File"),
    "col.row": ("行", "Row"),
    "col.column": ("列 / 条目", "Column / entry"),
    "col.id": ("编号", "ID"),
    "col.actor": ("操作人", "Actor"),
    "col.action": ("操作", "Action"),
    "col.entity": ("对象", "Entity"),
    "col.entity_key": ("对象标识", "Entity key"),
    "col.before": ("变更前", "Before"),
    "col.after": ("变更后", "After"),
    "col.name": ("名称", "Name"),
    "col.name_en": ("英文名称", "English name"),
    "col.version": ("版本", "Version"),
    "col.content_hash": ("内容哈希", "Content hash"),
    "col.effective_from": ("生效日", "In force from"),
    "col.published_by": ("发布人", "Published by"),
    "col.published_at": ("发布时间（UTC）", "Published at (UTC)"),
    "col.note": ("说明", "Note"),
    "col.in_force": ("现行", "In force"),
    "col.added": ("新增", "Added"),
    "col.changed": ("变更", "Changed"),
    "col.events": ("事项", "Events"),
    "col.subjects": ("主体数", "Subjects"),
    "col.mean_before": ("现行规则平均分", "Mean now"),
    "col.mean_after": ("草案平均分", "Mean under draft"),
    "col.moved": ("分数变化", "Index changed"),
    "col.grade_changed": ("等级变化", "Grade changed"),
    "col.newly_restricted": ("新增受限", "Newly restricted"),
    "col.no_longer_restricted": ("解除受限", "No longer restricted"),
    "col.index_before": ("现行指数", "Index now"),
    "col.index_after": ("草案指数", "Index under draft"),
    "col.change": ("变化", "Change"),
    "col.grade_before": ("现行等级", "Grade now"),
    "col.grade_after": ("草案等级", "Grade under draft"),
    "col.restricted_before": ("现行受限", "Restricted now"),
    "col.restricted_after": ("草案受限", "Restricted under draft"),
    "col.base": ("满分", "Full marks"),
    "col.floor": ("最低分", "Floor"),
    "col.min": ("最低分数", "Minimum"),
    "col.subject_types": ("适用主体", "Subject types"),
    "col.days": ("扣分期限（天）", "Lasts (days)"),
    "col.restrict_days": ("限制期限（天）", "Restricts (days)"),
    "col.watch": ("关注等级", "Watch level"),
    "col.basis": ("处罚依据", "Basis"),
    "col.restrict_min_days": ("法定最短限制（天）", "Statutory minimum (days)"),
    "col.restrict_max_days": ("法定最长限制（天）", "Statutory maximum (days)"),
    "col.restrict_scope": ("限制范围", "Scope"),
    "col.restricted_in": ("受限交易类别", "Restricted in"),
    "col.authority": ("处罚机关", "Authority"),
    "col.publish_until": ("公示截止期", "Published until"),
    "col.restrict_until": ("限制截止日", "Barred until"),
    "col.repeat_within_days": ("重复认定期（天）", "Repeat within (days)"),
    "col.repeat_factor": ("重复倍数", "Repeat factor"),
    "col.decay": ("衰减方式", "Decay"),
    "col.min_publish_days": ("最短公示期（天）", "Minimum publication (days)"),
    "col.window_days": ("统计窗口（天）", "Window (days)"),
    "col.single_points": ("单次扣分阈值", "Single deduction threshold"),
    "col.total_points": ("累计扣分阈值", "Total deduction threshold"),
    "col.suspend_days": ("暂停期限（天）", "Suspension (days)"),
    "col.role": ("身份", "Role"),
    "col.start": ("起始日", "Start"),
    "col.entered_by": ("录入人", "Entered by"),
    "col.entered_at": ("录入时间（UTC）", "Entered at (UTC)"),
    "col.record_pk": ("记录序号", "Record no."),
    "col.objection_id": ("异议序号", "Objection no."),
    "col.open_objections": ("待处理异议", "Open objections"),
    "col.behaviour_code": ("行为代码", "Behaviour code"),
    "col.rows": ("行数", "Rows"),
    # values shown in tables
    "cause.behaviour": ("不良行为限制", "Behaviour"),
    "cause.grade": ("信用等级", "Grade"),
    "cause.suspension": ("专家暂停", "Expert suspension"),
    "cause.list": ("联合惩戒名单", "External list"),
    "cause.manual": ("人工限制", "Manual restriction"),
    "status.counted": ("计分中", "Counting"),
    "status.revoked": ("已撤销", "Revoked"),
    "status.future": ("尚未生效", "Not yet in effect"),
    "status.repaired": ("已修复", "Repaired"),
    "status.expired": ("已期满", "Expired"),
    "event.objection_filed": ("提出异议", "Objection filed"),
    "event.objection_decided": ("异议处理结果", "Objection decided"),
    "event.revoked": ("撤销", "Revoked"),
    "event.repair_applied": ("申请信用修复", "Repair applied for"),
    "event.repair_granted": ("信用修复", "Repair granted"),
    "outcome.upheld": ("异议成立", "Upheld"),
    "outcome.rejected": ("异议不成立", "Rejected"),
    # profile
    "profile.title": ("主体信用档案", "Subject profile"),
    "profile.search": ("查找主体（名称或代码）", "Find a subject (name or code)"),
    "profile.none_found": ("未找到匹配的主体。", "No subject matches."),
    "profile.matches": ("匹配结果（{n}）", "Matches ({n})"),
    "profile.pick": ("请输入名称或代码查找主体，或从信用排名页打开。",
                     "Search by name or code, or open a subject from the rankings."),
    "profile.role": ("身份", "Role"),
    "profile.identity": ("代码 {id} · {type}", "Code {id} · {type}"),
    "profile.restricted_now": ("该主体在 {day} 受到限制，详见「限制及依据」。",
                               "This subject is restricted on {day}; see the restrictions "
                               "and their grounds."),
    "profile.history": ("信用指数变化（▼ 为扣分记录）", "Index over time (▼ marks a deduction)"),
    "profile.history_from": ("起始日期", "From"),
    "profile.history_published": ("每日数值为当日公布的结果（按当日已知数据）。",
                                  "Each day as published that day (as known then)."),
    "profile.history_fixed": ("每日数值均按 {known} 已知的数据计算。",
                              "Every day as known on {known}."),
    "profile.tab_deductions": ("当日扣分明细（{n}）", "Deductions on the day ({n})"),
    "profile.tab_restrictions": ("限制及依据（{n}）", "Restrictions and grounds ({n})"),
    "profile.tab_records": ("全部记录（{n}）", "All records ({n})"),
    "profile.tab_events": ("异议与修复（{n}）", "Objections and repairs ({n})"),
    "profile.deductions_caption": ("{day} 计入的扣分（数据截至 {known}）；"
                                   "失效日为不再扣分的第一天。",
                                   "Deductions counted on {day} (as known on {known}); "
                                   "'expires on' is the first day without it."),
    # eligibility
    "elig.title": ("资格核查", "Eligibility check"),
    "elig.caption": ("核查候选人（或联合体）在指定日期能否参与交易，并下载核查证据留存。",
                     "Check whether candidates (or a consortium) may trade on a day, and "
                     "download the evidence to keep."),
    "elig.paste": ("粘贴代码", "Paste codes"),
    "elig.upload": ("上传名单", "Upload a list"),
    "elig.ids": ("候选人代码（每行一个，或以逗号分隔）",
                 "Candidate codes (one a line, or comma separated)"),
    "elig.ids_hint": ("统一社会信用代码或专家身份证号",
                      "Credit codes or experts' resident ID numbers"),
    "elig.file": ("候选人名单文件", "Candidate list file"),
    "elig.file_help": ("CSV、Excel 或文本文件；读取 subject_id 列（没有则读取第一列）。",
                       "CSV, Excel or text; the subject_id column is read (else the first)."),
    "elig.consortium": ("联合体", "Consortium"),
    "elig.consortium_help": ("联合体任一成员受限制即整体受限制；指数取成员最低值。",
                             "A consortium is restricted when any member is; its index is "
                             "the lowest member's."),
    "elig.role": ("按身份显示指数", "Index of role"),
    "elig.any_role": ("各身份中最低", "Lowest over roles"),
    "elig.role_help": ("资格不因身份而异；此项只决定显示哪个身份的指数和等级。",
                       "Eligibility does not depend on the role; this only picks which "
                       "role's index and grade are shown."),
    "elig.count": ("共 {n} 个代码", "{n} code(s)"),
    "elig.run": ("开始核查", "Check"),
    "elig.running": ("正在核查……", "Checking…"),
    "elig.answer": ("核查结论：{on}（数据截至 {known}）", "Answer for {on} (as known on {known})"),
    "elig.all_eligible": ("全部 {n} 个均符合资格。", "All {n} are eligible."),
    "elig.some_ineligible": ("{n} 个中有 {bad} 个不符合资格。", "{bad} of {n} are not eligible."),
    "elig.invalid_id": ("代码 {id} 格式有误：{why}", "Code {id} is not valid: {why}"),
    "elig.grounds": ("不符合资格的依据", "Grounds"),
    "elig.download": ("下载核查证据（HTML）", "Download the evidence (HTML)"),
    "elig.stored": ("本次核查已存档，编号 {id}。", "This check is kept in the store as no. {id}."),
    "elig.certified": ("核查编号 {no}，验证码 {code}。",
                       "Check number {no}, verification code {code}."),
    "elig.certificate_pdf": ("下载资格核查证明（PDF）", "Download the certificate (PDF)"),
    # verify
    "verify.title": ("资格核查证明核验", "Verify a check certificate"),
    "verify.caption": ("输入证明上的验证码，核验该证明是否由本中心出具及其内容。",
                       "Enter the verification code printed on a certificate to see whether "
                       "this centre issued it and what it says."),
    "verify.code": ("验证码", "Verification code"),
    "verify.run": ("核验", "Verify"),
    "verify.found": ("该证明真实有效：核查编号 {no}，出具时间 {at}（北京时间），"
                     "经办人 {operator}。",
                     "This certificate is genuine: check {no}, issued {at} (Shanghai time) "
                     "by {operator}."),
    "verify.facts": ("项目：{project}；核查日 {on}，数据截至 {known}；结论：{verdict}",
                     "Project: {project}; day checked {on}, as known on {known}; "
                     "answer: {verdict}"),
    "verify.missing": ("验证码 {code} 不存在：本中心未出具该证明。",
                       "No certificate with code {code}: this centre did not issue it."),
    "verify.eligible": ("符合", "eligible"),
    "verify.ineligible": ("不符合", "not eligible"),
    "verify.download": ("下载证明（PDF）", "Download the certificate (PDF)"),
    # rules
    "rules.title": ("评分规则", "Rule tuning"),
    "rules.caption": ("编辑规则草案，查看校验结果和对现有数据的影响，"
                      "确认后发布为新的不可更改版本。",
                      "Edit a draft, see every problem and its impact on the current data, "
                      "then publish it as a new immutable version."),
    "rules.tab_tables": ("表格编辑", "Table editor"),
    "rules.tab_toml": ("TOML 文本", "TOML text"),
    "rules.tab_versions": ("已发布版本", "Published versions"),
    "rules.toml": ("规则草案（TOML）", "Draft rule set (TOML)"),
    "rules.reset": ("恢复为现行规则", "Start again from the rules in force"),
    "rules.table_needs_toml": ("草案不是有效的 TOML，请先在「TOML 文本」中修正。",
                               "The draft is not valid TOML: fix it in the TOML text first."),
    "rules.grades": ("信用等级", "Grades"),
    "rules.behaviours": ("不良行为扣分标准", "Deduction catalogue"),
    "rules.suspension": ("专家暂停规则", "Expert suspension"),
    "rules.apply_tables": ("将表格修改写入草案", "Apply the table edits to the draft"),
    "rules.validation": ("校验", "Validation"),
    "rules.valid": ("草案有效：{name} {version}，{behaviours} 项行为，哈希 {hash}…",
                    "The draft is valid: {name} {version}, {behaviours} behaviours, "
                    "hash {hash}…"),
    "rules.impact": ("对现有数据的影响", "Impact on the current data"),
    "rules.same_as_in_force": ("草案与现行规则相同，没有影响。",
                               "The draft is the rule set in force: no impact."),
    "rules.computing_impact": ("正在按草案重新计算全部主体……",
                               "Computing every subject under the draft…"),
    "rules.before": ("现行规则", "In force"),
    "rules.after": ("草案", "Draft"),
    "rules.series": ("规则", "Rule set"),
    "rules.changed": ("等级或限制状态变化的主体（{n}）",
                      "Subjects whose grade or restriction changes ({n})"),
    "rules.movers": ("分数变化最大的主体", "Largest movers"),
    "rules.publish": ("发布", "Publish"),
    "rules.effective_from": ("生效日", "In force from"),
    "rules.note": ("发布说明", "Note"),
    "rules.publish_button": ("发布为新版本", "Publish as a new version"),
    "rules.published": ("已发布：{version}", "Published: {version}"),
    # imports
    "import.title": ("数据导入", "Imports"),
    "import.caption": ("先整体校验：任一行有误则全部不导入，并逐条列出文件、行、列和原因。",
                       "Files are checked whole first: if any row is wrong nothing is "
                       "imported, and every problem is listed by file, row, column, reason."),
    "import.kind": ("导入内容", "What to import"),
    "import.kind.records": ("不良行为记录", "Penalty records"),
    "import.kind.lists": ("联合惩戒名单", "External list entries"),
    "import.files": ("文件", "Files"),
    "import.files_help.records": ("CSV（UTF-8 或 GBK）、Excel 或 Parquet，按标准列名。",
                                  "CSV (UTF-8 or GBK), Excel or Parquet with the canonical "
                                  "columns."),
    "import.files_help.lists": ("标准格式的名单条目"
                                "（list、subject_id 或 name、listed_on、until）。",
                                "Canonical list entries (list, subject_id or name, listed_on, "
                                "until)."),
    "import.subjects": ("主体名录（可选）", "Subjects file (optional)"),
    "import.subjects_help": ("subject_id、subject_type、subject_name：无记录的主体按满分计。",
                             "subject_id, subject_type, subject_name: subjects without "
                             "records count at full marks."),
    "import.validate": ("仅校验", "Check only"),
    "import.run": ("导入", "Import"),
    "import.valid": ("校验通过：{rows} 行，没有问题。", "Checked: {rows} rows, no problems."),
    "import.nothing_new": ("读取 {rows} 行，均已存在，未新增任何数据。",
                           "Read {rows} rows, all already stored: nothing new."),
    "import.done": ("导入批次 {id}：读取 {rows} 行，新增记录 {added}，撤销/修复事项 {events}，"
                    "新增主体 {subjects}，变更 {changed}。",
                    "Import {id}: {rows} rows read, {added} records added, {events} "
                    "revocations/repairs, {subjects} subjects added, {changed} changed."),
    "import.batches": ("最近的导入", "Latest imports"),
    "col.batch_kind": ("导入内容", "Content"),
    # lifecycle
    "life.title": ("异议、信用修复与人工限制", "Objections, credit repair, manual restrictions"),
    "life.caption": ("每项操作都记录操作人，并写入审计日志；记录本身永不修改或删除。",
                     "Every step names who took it and is written to the audit log; "
                     "records themselves are never changed or deleted."),
    "life.find": ("查找记录（主体代码、名称、记录编号或文号）",
                  "Find records (subject code, name, record no. or document no.)"),
    "life.none_found": ("没有匹配的记录。", "No record matches."),
    "life.pick": ("选择记录", "Record"),
    "life.tab_objection": ("异议", "Objection"),
    "life.tab_decide": ("异议处理", "Decide an objection"),
    "life.tab_repair": ("信用修复", "Credit repair"),
    "life.tab_manual": ("人工限制", "Manual restriction"),
    "life.on": ("日期", "Date"),
    "life.reason": ("理由", "Reason"),
    "life.document_no": ("文号", "Document no."),
    "life.file_objection": ("登记异议", "File the objection"),
    "life.objection": ("待处理的异议", "Open objection"),
    "life.no_open_objection": ("该记录没有待处理的异议。", "This record has no open objection."),
    "life.outcome": ("结论", "Outcome"),
    "life.decide": ("记录处理结果", "Record the decision"),
    "life.repair": ("准予信用修复", "Grant the repair"),
    "life.apply_repair": ("登记修复申请", "Record the application"),
    "life.subject": ("主体代码", "Subject code"),
    "life.until": ("截止日（含当日，可不填表示无期限）", "Until (inclusive; empty: indefinite)"),
    "life.indefinite": ("无期限", "Indefinite"),
    "life.restrict": ("录入人工限制", "Enter the restriction"),
    "life.lift": ("解除", "Lift"),
    "life.manual_list": ("现有人工限制", "Manual restrictions"),
    "life.events": ("该记录的处理过程", "This record's history"),
    "life.done": ("已记录：{what}", "Recorded: {what}"),
    "life.missing": ("此功能需要数据存储模块提供「{name}」，当前版本尚未提供。",
                     "This needs the store's '{name}', which this version does not have yet."),
    # audit
    "audit.title": ("审计日志", "Audit log"),
    "audit.caption": ("谁在何时做了什么，以及变更前后的内容。",
                      "Who changed what, when, before and after."),
    "audit.actor": ("操作人", "Actor"),
    "audit.action": ("操作", "Action"),
    "audit.since": ("起始日期", "Since"),
    "audit.search": ("搜索对象或内容", "Search entity or content"),
    "audit.count": ("显示 {n} 条（共 {total} 条）", "{n} of {total} entries"),
    "audit.download": ("下载 CSV", "Download CSV"),
}

CATALOGUE.update({key: {"zh": zh, "en": en} for key, (zh, en) in _TEXTS.items()})
