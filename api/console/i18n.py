"""The console's labels in Chinese and English, and `translator` over them and the values a
page shows (`api.console.values`). A label missing in a language shows its key, which a test
catches (`tests/api/test_console.py`)."""

from __future__ import annotations

from typing import Protocol

from api.console.values import GROUPS, NEXT_ACTIONS

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

# key: (中文, English)
LABELS: dict[str, tuple[str, str]] = {
    "app": ("催收中心", "Collections"),
    "signin": ("登录", "Sign in"),
    "signout": ("退出", "Sign out"),
    "password": ("密码", "Password"),
    "staff_id": ("工号", "Staff ID"),
    "signin_hint": (
        "以您本人的工号和密码登录；您的每一项操作和每一次查看客户信息都会记录在您名下。",
        "Sign in as yourself: each of your actions, and each look at a customer's details, "
        "is recorded under your staff ID.",
    ),
    "signin_failed": (
        "登录失败：工号或密码错误，或账户暂时锁定",
        "Sign-in failed: the staff ID or the password is wrong, or the account is locked",
    ),
    "too_many": (
        "此地址登录失败次数过多，请稍后再试",
        "Too many failed sign-ins from this address; try again later",
    ),
    "signin_sso": ("通过单点登录", "Sign in with"),
    "sso_failed": ("单点登录失败", "Single sign-on failed"),
    "change_password": ("修改密码", "Change your password"),
    "change_password_hint": (
        "首次登录或密码被重置后，请设置您自己的密码（至少 12 个字符）。",
        "After a first sign-in or a reset, set a password of your own (12 characters or more).",
    ),
    "current_password": ("当前密码", "Current password"),
    "new_password": ("新密码", "New password"),
    "confirm_password": ("再次输入新密码", "New password again"),
    "signed_in_as": ("当前用户", "Signed in as"),
    "forbidden": ("无权访问", "Not allowed"),
    "forbidden_text": ("您的角色不能打开此页面。", "Your role may not open this page."),
    "cases": ("案件", "Cases"),
    "tasks": ("任务", "Tasks"),
    "risk_inbox": ("风险收件箱", "Risk inbox"),
    "legal_inbox": ("法务收件箱", "Legal inbox"),
    "dashboard": ("指标看板", "Dashboard"),
    "search": ("查询", "Search"),
    "account_no": ("账号", "Account"),
    "stage": ("阶段", "Stage"),
    "segment": ("分层", "Segment"),
    "dpd": ("逾期天数", "Days past due"),
    "min_dpd": ("最少逾期天数", "Min. days past due"),
    "max_dpd": ("最多逾期天数", "Max. days past due"),
    "balance_band": ("余额区间", "Balance band"),
    "outstanding": ("未偿余额", "Outstanding"),
    "overdue": ("逾期金额", "Overdue"),
    "paid": ("已还", "Paid"),
    "any": ("全部", "Any"),
    "no_results": ("没有符合条件的案件。", "No case matches."),
    "updated": ("更新时间", "Updated"),
    "status": ("状态", "Status"),
    "next_action": ("下一步", "Next action"),
    "when": ("时间", "When"),
    "open_promise": ("有效承诺", "Open promise"),
    "promises": ("承诺 守约/违约", "Promises kept/broken"),
    "contacts": ("联系 已发/被拒", "Contacts sent/refused"),
    "opted_out": ("已退订", "Opted out"),
    "paused": ("已暂停", "Paused"),
    "dispute_open": ("争议处理中", "Dispute open"),
    "closed_reason": ("结案原因", "Closed as"),
    "timeline": ("时间线", "Timeline"),
    "attempts": ("联系记录", "Contact attempts"),
    "channel": ("渠道", "Channel"),
    "template": ("模板", "Template"),
    "reason": ("原因", "Reason"),
    "history": ("在 Temporal 中查看历史", "History in Temporal"),
    "actions": ("操作", "Actions"),
    "record_payment": ("登记还款", "Record a payment"),
    "promise_to_pay": ("登记承诺还款", "Record a promise to pay"),
    "raise_dispute": ("登记争议", "Raise a dispute"),
    "resolve_dispute": ("处理争议", "Resolve the dispute"),
    "report_hardship": ("报告困难", "Report hardship"),
    "opt_out": ("退订渠道", "Opt out of a channel"),
    "opt_in": ("恢复渠道", "Opt back in"),
    "pause": ("暂停催收", "Pause"),
    "resume": ("恢复催收", "Resume"),
    "close": ("结案", "Close the case"),
    "amount": ("金额", "Amount"),
    "payment_ref": ("还款流水号", "Payment reference"),
    "promised_date": ("承诺日期", "Promised date"),
    "upheld": ("争议成立", "Upheld"),
    "note": ("备注", "Note"),
    "submit": ("提交", "Submit"),
    "done": ("已完成", "Done"),
    "not_running": ("工作流已结束：以下为最后记录。", "The workflow has ended: the last record."),
    "assessing": ("评估中……", "Being assessed..."),
    "my_tasks": ("我的任务", "My tasks"),
    "team_tasks": ("团队任务", "Team tasks"),
    "supervisor_tasks": ("主管任务", "Supervisor tasks"),
    "kind": ("类型", "Kind"),
    "queue": ("队列", "Queue"),
    "assignee": ("处理人", "Assignee"),
    "deadline": ("截止时间", "Deadline"),
    "claim": ("认领", "Claim"),
    "complete": ("完成", "Complete"),
    "outcome": ("结果", "Outcome"),
    "overdue_task": ("已超期", "Overdue"),
    "due_soon": ("即将到期", "Due soon"),
    "no_tasks": ("没有任务。", "No tasks."),
    "handoffs": ("移交", "Handoffs"),
    "handoff": ("移交", "Handoff"),
    "case": ("案件", "Case"),
    "created": ("创建时间", "Created"),
    "no_handoffs": ("收件箱为空。", "The inbox is empty."),
    "dossier": ("材料", "Dossier"),
    "print_dossier": ("打印材料", "Printable dossier"),
    "no_dossier": ("材料尚未生成。", "The dossier is not built yet."),
    "decide": ("作出决定", "Decide"),
    "decision": ("决定", "Decision"),
    "forbearance_until": ("宽限至", "Forbearance until"),
    "instalments": ("分期（每行：日期 金额）", "Instalments (one per line: date amount)"),
    "accept": ("接收", "Accept"),
    "return": ("退回", "Return"),
    "proceeding": ("登记诉讼进展", "Record a proceeding"),
    "on_date": ("日期", "On"),
    "contact_permission": ("联系许可", "Contact permission"),
    "allowed": ("允许联系", "Contact allowed"),
    "live_state": ("当前状态", "Live state"),
    "accepted_by": ("接收人", "Accepted by"),
    "proceedings": ("诉讼进展", "Proceedings"),
    "kpis": ("中心指标", "Center KPIs"),
    "window": ("统计窗口（天）", "Window (days)"),
    "cases_by_stage": ("各阶段案件数", "Cases by stage"),
    "cases_by_bucket": ("各账龄段在催案件", "Open cases by bucket"),
    "roll_rates": ("迁徙率（进入更差账龄段）", "Roll rates (to a worse bucket)"),
    "cure_rate": ("治愈率", "Cure rate"),
    "promise_kept_rate": ("承诺兑现率", "Promise-kept rate"),
    "rpc_rate": ("本人联系率", "Right-party-contact rate"),
    "refusals": ("被联系策略拒绝的联系", "Contacts refused by the contact policy"),
    "no_data": ("暂无数据", "No data yet"),
    "language": ("English", "中文"),
    "error": ("错误", "Error"),
    "not_a_number": ("不是有效金额", "is not an amount"),
    "not_a_date": ("不是有效日期", "is not a date"),
    "too_many_decimals": ("小数位过多", "has too many decimals"),
    "not_an_outcome": ("不是可选结果", "is not one of the outcomes"),
    "not_a_channel": ("不是可选渠道", "is not one of the channels"),
    "not_a_closure": ("不是可选结案原因", "is not one of the closing reasons"),
    "not_a_decision": ("不是可选决定", "is not one of the decisions"),
    "not_a_proceeding": ("不是可选诉讼进展", "is not one of the proceedings"),
    "unknown": ("未知", "unknown"),
    "action": ("操作", "Action"),
    "closure": ("结案原因", "Closing reason"),
    "second_collector": ("第二名催收员", "2nd collector"),
    "consent_to_enter": ("客户同意入内", "Consent to enter"),
    "overpayment": ("这是一笔超额还款", "This is an overpayment"),
    "overpaid": ("超额还款", "Overpaid"),
    "plan": ("还款计划", "Payment plan"),
    "due_date": ("到期日", "Due"),
    # Staff, tokens and approvals.
    "approvals": ("审批", "Approvals"),
    "staff": ("人员", "Staff"),
    "tokens": ("API 令牌", "API tokens"),
    "name": ("姓名", "Name"),
    "roles": ("角色", "Roles"),
    "team": ("团队", "Team"),
    "languages": ("工作语言（逗号分隔）", "Languages (comma-separated)"),
    "active": ("可用", "Active"),
    "person": ("员工", "Person"),
    "service_account": ("服务账户", "Service account"),
    "add_staff": ("添加员工或服务账户", "Add a person or service account"),
    "add": ("添加", "Add"),
    "disable": ("停用", "Disable"),
    "enable": ("启用", "Enable"),
    "set_roles": ("设置角色", "Set roles"),
    "reset_password": ("重置密码", "Reset the password"),
    "now_disabled": (
        "已停用：其会话已结束，令牌已撤销",
        "disabled: their sessions ended, their tokens revoked",
    ),
    "now_enabled": ("已启用", "enabled"),
    "roles_set": ("角色已更新，其会话已结束", "roles set; their sessions ended"),
    "one_time_password": ("一次性密码", "One-time password"),
    "password_shown_once": (
        "只显示这一次：请当面交给本人，对方首次登录时必须修改。",
        "Shown this once: hand it to them yourself; they must change it at their first sign-in.",
    ),
    "service_added": (
        "服务账户已添加：它只能用令牌调用 API，请在下方为它生成令牌。",
        "Service account added: it calls the API by token only; make it one below.",
    ),
    "token": ("令牌", "Token"),
    "new_token": ("生成令牌", "Make a token"),
    "token_name": ("用途", "What it is for"),
    "days": ("有效天数（1–366）", "Days valid (1–366)"),
    "expires": ("到期时间", "Expires"),
    "revoked": ("已撤销", "Revoked"),
    "last_used": ("最近使用", "Last used"),
    "revoke": ("撤销", "Revoke"),
    "no_tokens": ("没有令牌。", "No tokens."),
    "token_shown_once": (
        "令牌只显示这一次：请现在复制并妥善保存，它代表您本人调用 API。",
        "The token is shown this once: copy it now and keep it safe; it calls the API as you.",
    ),
    "token_revoked": ("令牌已撤销", "token revoked"),
    "needs": ("需审批事项", "Needs approval for"),
    "details": ("内容", "Details"),
    "requested_by": ("申请人", "Requested by"),
    "approve": ("批准", "Approve"),
    "reject": ("驳回", "Reject"),
    "request_rejected": ("申请已驳回", "request rejected"),
    "no_approvals": ("没有待审批的申请。", "Nothing waits for approval."),
    "complete_task": ("完成任务", "Complete a task"),
    "contact_details": ("客户联系方式", "Contact details"),
    "show_contact_details": ("查看联系方式", "Show contact details"),
    "other": ("其他原因（请在下方填写）", "Other (say which below)"),
    "other_reason": ("其他原因", "Other reason"),
    "customer_name": ("客户姓名", "Customer"),
    "mobile": ("手机号码", "Mobile"),
    "look_recorded": ("此次查看已记录在您名下。", "This look is recorded under your staff ID."),
    "who_saw": ("谁查看过该客户的信息", "Who saw this customer's details"),
    "who": ("查看人", "Who"),
    "via": ("途径", "Via"),
    "what": ("查看内容", "What"),
    "nobody_yet": ("尚无查看记录。", "Nobody yet."),
    "payloads": ("解密的工作流数据", "Decoded payloads"),
    "customer_record": ("客户记录", "Customer record"),
    "role_operations": ("催收员", "Collector"),
    "role_supervisor": ("主管", "Supervisor"),
    "role_risk": ("风险", "Risk"),
    "role_legal": ("法务", "Legal"),
    "role_engineer": ("工程师", "Engineer"),
    "role_admin": ("管理员", "Administrator"),
    # The reasons the console offers for a look at a customer's details (`operations.access`).
    "calling the customer": ("致电客户", "Calling the customer"),
    "the customer called in": ("客户来电", "The customer called in"),
    "a field visit": ("外访", "A field visit"),
    "a complaint or dispute": ("投诉或争议", "A complaint or dispute"),
    "legal proceedings": ("法律程序", "Legal proceedings"),
}

STAGES = {
    "assessment": ("评估", "Assessment"),
    "early": ("早期", "Early"),
    "collector": ("人工催收", "Collector"),
    "risk_review": ("风险审查", "Risk review"),
    "legal": ("法务", "Legal"),
    "closed": ("已结案", "Closed"),
}

# Task kinds, outcomes and statuses, as the workflows name them.
TERMS = {
    "collector_call": ("催收电话", "Collector call"),
    "field_visit": ("外访", "Field visit"),
    "supervisor_approval": ("主管审批", "Supervisor approval"),
    "dispute_investigation": ("争议调查", "Dispute investigation"),
    "escalation": ("升级", "Escalation"),
    "reached": ("已联系到本人", "Reached"),
    "promise_made": ("承诺还款", "Promise made"),
    "refused": ("拒绝", "Refused"),
    "not_found": ("未找到", "Not found"),
    "wrong_number": ("号码错误", "Wrong number"),
    "approved": ("批准", "Approved"),
    "rejected": ("驳回", "Rejected"),
    "dispute_upheld": ("争议成立", "Dispute upheld"),
    "dispute_rejected": ("争议不成立", "Dispute rejected"),
    "reassigned": ("已改派", "Reassigned"),
    "open": ("待处理", "Open"),
    "claimed": ("已认领", "Claimed"),
    "escalated": ("已升级", "Escalated"),
    "cancelled": ("已取消", "Cancelled"),
    "operations": ("催收作业", "Operations"),
    "supervisor": ("主管", "Supervisor"),
}


class Translate(Protocol):
    def __call__(self, key: str, group: str = "") -> str: ...


def translator(language: str) -> Translate:
    """`t(key)`: the label in `language`; `t(value, group)`: a value of one of the `GROUPS`
    (`t(kind, "event")`). Either is its key when there is none: a value the workflows name
    after this table was written shows as they name it."""
    index = 0 if language == "zh" else 1

    def t(key: str, group: str = "") -> str:
        if group:
            found = GROUPS[group].get(key)
        else:
            found = LABELS.get(key) or STAGES.get(key) or TERMS.get(key)
        return found[index] if found else key

    return t


def next_action(kind: str | None, text: str, language: str) -> str:
    """The case's next action in `language`. The case names it by kind and in English words
    that may say more (the channel and template of a reminder): English shows the words,
    Chinese the kind. A case started before kinds were named has only the words."""
    if kind is not None and kind in NEXT_ACTIONS and (language == "zh" or not text):
        return translator(language)(kind, "next_action")
    return text
