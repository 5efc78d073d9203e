"""The values a console page shows, in Chinese and English, by what they are: the words the
workflows record (events, closures, attempts, refusals, decisions, proceedings ...), one table
per kind of value, gathered in `GROUPS` for `api.console.i18n.translator`."""

from __future__ import annotations

# Values a page shows, by what they are: the same word can mean two things ("closed" is a stage,
# a next action and a court proceeding), so each kind of value has its own table.

# What the case does next, by `CaseStatus.next_action_kind` (`models.case_status.NextAction`).
NEXT_ACTIONS = {
    "contact": ("发送下一次提醒", "Send the next reminder"),
    "promise": ("核对承诺还款", "Check the promise to pay"),
    "stage": ("转入人工催收阶段", "Move to the collector stage"),
    "task_deadline": ("升级超期任务", "Escalate a task past its deadline"),
    "forbearance_end": ("结束宽限期", "End the forbearance"),
    "instalment": ("核对下一期分期", "Check the plan's next instalment"),
    "collector_call": ("创建催收电话任务", "Open a collector call"),
    "legal_check": ("核对法务移交条件", "Check the legal referral's preconditions"),
    "risk_decision": ("等待风险部门决定", "Wait for the risk department's decision"),
    "legal_outcome": ("等待法务部门处理结果", "Wait for the legal department"),
    "open_tasks": ("处理未完成的任务", "Work the open tasks"),
    "none": ("暂无计划事项", "Nothing scheduled"),
    "paused": ("无：催收已暂停", "None while paused"),
    "dispute": ("无：争议调查中", "None while the dispute is investigated"),
    "complaint": ("无：投诉答复前暂停", "None until the complaint is answered"),
    "closed": ("无：案件已结案", "None: case closed"),
}

# The kinds of the case's timeline events, as the case workflow records them (`_event`).
EVENTS = {
    "opened": ("开案", "Opened"),
    "stage": ("阶段变更", "Stage"),
    "balances_refreshed": ("余额已更新", "Balances refreshed"),
    "contact_sent": ("已发送提醒", "Contact sent"),
    "contact_refused": ("联系被策略拒绝", "Contact refused"),
    "contact_failed": ("联系失败", "Contact failed"),
    "contact_delayed": ("联系延后", "Contact delayed"),
    "contact_outcome": ("联系结果", "Contact outcome"),
    "channel_unavailable": ("渠道不可用", "Channel unavailable"),
    "ladder": ("提醒节奏调整", "Reminder ladder"),
    "payment": ("还款", "Payment"),
    "overpayment": ("超额还款", "Overpayment"),
    "promise": ("承诺还款", "Promise to pay"),
    "promise_kept": ("承诺已兑现", "Promise kept"),
    "promise_broken": ("承诺未兑现", "Promise broken"),
    "dispute_raised": ("提出争议", "Dispute raised"),
    "dispute_resolved": ("争议已处理", "Dispute resolved"),
    "hardship": ("报告困难", "Hardship reported"),
    "opted_out": ("退订渠道", "Opted out"),
    "opted_in": ("恢复渠道", "Opted in"),
    "paused": ("暂停催收", "Paused"),
    "resumed": ("恢复催收", "Resumed"),
    "task_opened": ("任务已创建", "Task opened"),
    "task_claimed": ("任务已认领", "Task claimed"),
    "task_done": ("任务已完成", "Task done"),
    "task_escalated": ("任务已升级", "Task escalated"),
    "task_assigned": ("任务已分派", "Task assigned"),
    "visit_booked": ("上门已预约", "Field visit booked"),
    "visit_checked_in": ("上门已签到", "Visit check-in"),
    "visit_checked_out": ("上门已签退", "Visit check-out"),
    "task_cancelled": ("任务已取消", "Task cancelled"),
    "risk_review": ("移交风险审查", "Risk review"),
    "risk_decision": ("风险决定", "Risk decision"),
    "risk_review_cancelled": ("风险审查已取消", "Risk review cancelled"),
    "forbearance_ended": ("宽限期结束", "Forbearance ended"),
    "plan_kept": ("还款计划已履行", "Plan kept"),
    "plan_broken": ("还款计划违约", "Plan broken"),
    "legal_threshold": ("达到法务移交天数", "Legal threshold reached"),
    "legal_not_ready": ("法务移交条件不足", "Legal referral not ready"),
    "legal_accepted": ("法务已接收", "Legal accepted"),
    "legal_contact": ("法务联系许可", "Legal contact permission"),
    "legal_outcome": ("法务结果", "Legal outcome"),
    "legal_informed": ("已通知法务", "Legal informed"),
    "personal_data_erased": ("个人数据已删除", "Personal data erased"),
    "complaint_received": ("收到投诉", "Complaint received"),
    "complaint_resolved": ("投诉已答复", "Complaint answered"),
    "mobile_changed": ("手机号已更新", "Mobile number changed"),
    "address_changed": ("地址已更新", "Address changed"),
    "number_wrong": ("号码错误", "Number marked wrong"),
}

CLOSURES = {
    "paid": ("已结清", "Paid"),
    "cured": ("已还清逾期", "Cured"),
    "settled": ("和解", "Settled"),
    "written_off": ("核销", "Written off"),
    "legal_closed": ("法务结案", "Closed by legal"),
    "dispute_upheld": ("争议成立", "Dispute upheld"),
    "manual": ("人工结案", "Manual"),
}

CHANNELS = {"sms": ("短信", "SMS"), "voice": ("语音电话", "Voice")}

SEGMENTS = {"low": ("低风险", "Low"), "medium": ("中风险", "Medium"), "high": ("高风险", "High")}

# A contact attempt's status (`AttemptStatus`) and, for a refused one, the policy's reason.
ATTEMPTS = {
    "refused": ("被拒绝", "Refused"),
    "queued": ("排队中", "Queued"),
    "sent": ("已发送", "Sent"),
    "delivered": ("已送达", "Delivered"),
    "undelivered": ("未送达", "Undelivered"),
    "failed": ("失败", "Failed"),
    "answered": ("已接听", "Answered"),
    "unanswered": ("未接听", "Unanswered"),
    "unconfirmed": ("未能确认是否拨出", "Unconfirmed"),
}
REFUSALS = {
    "outside_window": ("不在允许联系时段", "Outside the contact window"),
    "daily_cap": ("超过每日上限", "Daily cap reached"),
    "weekly_cap": ("超过每周上限", "Weekly cap reached"),
    "recent_conversation": ("近期已通话", "Recent conversation"),
    "opted_out": ("客户已退订", "Opted out"),
    "dispute_open": ("争议处理中", "Dispute open"),
    "paused": ("催收已暂停", "Paused"),
    "promise_pending": ("承诺还款期内", "Promise pending"),
    "paid_in_full": ("已全额还款", "Paid in full"),
    "closed": ("已结案", "Closed"),
    "legal_hold": ("法务暂停联系", "Legal hold"),
    "channel_unavailable": ("渠道不可用", "Channel unavailable"),
}

PLAN_STATUSES = {
    "active": ("执行中", "Active"),
    "kept": ("已履行", "Kept"),
    "broken": ("已违约", "Broken"),
}
INSTALMENTS = {"due": ("待还", "Due"), "paid": ("已还", "Paid"), "missed": ("逾期未还", "Missed")}

# The risk and legal departments' words: decisions, proceedings, outcomes and handoff statuses.
DECISIONS = {
    "forbearance": ("宽限", "Forbearance"),
    "payment_plan": ("分期还款计划", "Payment plan"),
    "restructure": ("债务重组", "Restructure"),
    "proceed": ("继续催收", "Proceed"),
}
PROCEEDINGS = {
    "filed": ("已立案", "Filed"),
    "hearing": ("开庭", "Hearing"),
    "judgment": ("判决", "Judgment"),
    "enforcement": ("强制执行", "Enforcement"),
    "settled": ("和解", "Settled"),
    "closed": ("结案", "Closed"),
}
LEGAL_OUTCOMES = {
    "returned": ("退回催收", "Returned"),
    "settled": ("和解", "Settled"),
    "closed": ("结案", "Closed"),
}
HANDOFF_STATUSES = {
    "open": ("待决定", "Open"),
    "escalated": ("已升级", "Escalated"),
    "decided": ("已决定", "Decided"),
    "cancelled": ("已取消", "Cancelled"),
    "referred": ("已移交", "Referred"),
    "accepted": ("已接收", "Accepted"),
    "returned": ("已退回", "Returned"),
    "closed": ("已结案", "Closed"),
}

COMPLAINT_CATEGORIES = {
    "conduct": ("催收人员言行", "Conduct"),
    "contact": ("联系方式或频率", "Contact"),
    "fees": ("费用或金额", "Fees"),
    "privacy": ("个人信息", "Privacy"),
    "service": ("服务", "Service"),
    "other": ("其他", "Other"),
}
COMPLAINT_CHANNELS = {
    "phone": ("电话", "Phone"),
    "sms": ("短信", "SMS"),
    "letter": ("信函", "Letter"),
    "email": ("电子邮件", "Email"),
    "branch": ("网点", "Branch"),
    "app": ("手机银行", "App"),
    "regulator": ("监管转办", "Regulator"),
}
COMPLAINT_OUTCOMES = {
    "upheld": ("投诉成立", "Upheld"),
    "partly_upheld": ("部分成立", "Partly upheld"),
    "rejected": ("投诉不成立", "Rejected"),
    "withdrawn": ("客户撤回", "Withdrawn"),
}

CONTACT_SOURCES = {
    "customer": ("客户提供", "The customer"),
    "collector": ("催收员查找", "A collector"),
    "bank": ("银行记录", "The bank's records"),
}

# A task's kind, status and outcome (`models.departments`) and the queue it waits on.
TASK_KINDS = {
    "collector_call": ("催收电话", "Collector call"),
    "field_visit": ("外访", "Field visit"),
    "supervisor_approval": ("主管审批", "Supervisor approval"),
    "dispute_investigation": ("争议调查", "Dispute investigation"),
    "escalation": ("升级", "Escalation"),
    "complaint": ("投诉处理", "Complaint"),
}
TASK_STATUSES = {
    "open": ("待处理", "Open"),
    "claimed": ("已认领", "Claimed"),
    "done": ("已完成", "Done"),
    "escalated": ("已升级", "Escalated"),
    "cancelled": ("已取消", "Cancelled"),
}
TASK_OUTCOMES = {
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
}
QUEUES = {"operations": ("催收作业", "Operations"), "supervisor": ("主管", "Supervisor")}

GROUPS: dict[str, dict[str, tuple[str, str]]] = {
    "next_action": NEXT_ACTIONS,
    "event": EVENTS,
    "closure": CLOSURES,
    "channel": CHANNELS,
    "segment": SEGMENTS,
    "attempt": ATTEMPTS,
    "refusal": REFUSALS,
    "plan": PLAN_STATUSES,
    "instalment": INSTALMENTS,
    "decision": DECISIONS,
    "proceeding": PROCEEDINGS,
    "legal_outcome": LEGAL_OUTCOMES,
    "handoff": HANDOFF_STATUSES,
    "complaint_category": COMPLAINT_CATEGORIES,
    "complaint_channel": COMPLAINT_CHANNELS,
    "complaint_outcome": COMPLAINT_OUTCOMES,
    "contact_source": CONTACT_SOURCES,
    "task_kind": TASK_KINDS,
    "task_status": TASK_STATUSES,
    "task_outcome": TASK_OUTCOMES,
    "queue": QUEUES,
}
