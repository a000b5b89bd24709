using System.Text.RegularExpressions;
using Hotline.Domain.Calendar;
using Hotline.Domain.Common;

namespace Hotline.Domain.Tickets;

/// <summary>Pure decisions: <c>Decide(state, command, now) → events</c>. No I/O, no clock of its own.</summary>
public static partial class TicketDecider
{
    public static IReadOnlyList<ITicketEvent> Decide(Ticket state, TicketCommand command, DateTimeOffset now, TicketContext context)
    {
        if (command is not RegisterTicket && state.State == TicketState.None)
            throw new InvalidTransitionException(command.Name, nameof(TicketState.None), TicketStateNames.Of(TicketState.None), [], "工单不存在");

        // System commands check their own state (they are not offered by the API).
        if (command is RecomputeDeadlines recompute) return Recompute(state, recompute, now, context);
        if (command is FlagForDispatcher flag) return Flag(state, flag, now);

        if (command is not RegisterTicket && !AllowedActions(state).Contains(command.Name))
            throw Invalid(state, command.Name);

        return command switch
        {
            RegisterTicket c => Register(state, c, now, context),
            AnswerDirectly c => AnswerDirectly(state, c, now),
            RejectOutOfScope c => OutOfScope(state, c, now),
            TransferToEmergency c => Emergency(state, c, now),
            DispatchTicket c => Dispatch(state, c, now, context),
            SubDispatchTask c => SubDispatch(state, c, now, context),
            SignForTask c => SignFor(state, c, now),
            RequestReturn c => RequestReturn(state, c, now),
            DecideReturn c => DecideReturn(state, c, now, context),
            RequestExtension c => RequestExtension(state, c, now, context),
            DecideExtension c => DecideExtension(state, c, now, context),
            AddProgressNote c => Note(state, c, now),
            RecordFirstContact c => FirstContact(state, c, now),
            SubmitReply c => Reply(state, c, now),
            ReviewReply c => Review(state, c, now, context),
            ScheduleCallback c => [new CallbackScheduled(state.Id, c.Actor, now)],
            RecordCallback c => Callback(state, c, now, context),
            RecordCallbackAttemptFailed c => CallbackFailed(state, c, now, context),
            UrgeTicket c => Urge(state, c, now),
            SuperviseTicket c => Supervise(state, c, now),
            MergeIntoMaster c => Merge(state, c, now),
            AttachDuplicate c => Attach(state, c, now),
            CloseTicket c => Close(state, c, now),
            ReopenTicket c => Reopen(state, c, now, context),
            HoldDispatch c => Hold(state, c, now),
            ReleaseDispatchHold c => Release(state, c, now),
            _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "Unknown command"),
        };
    }

    /// <summary>The actions the API offers in this state (the reason a 409 names). Urge, supervise and note are layers on every open state.</summary>
    public static IReadOnlyList<string> AllowedActions(Ticket state)
    {
        var actions = new List<string>();
        var tasks = state.Tasks;
        switch (state.State)
        {
            case TicketState.Registered:
                actions.AddRange([TicketActions.AnswerDirectly, TicketActions.Dispatch, TicketActions.OutOfScope, TicketActions.EmergencyTransfer, TicketActions.Merge]);
                actions.Add(state.Hold is null ? TicketActions.HoldDispatch : TicketActions.ReleaseHold);
                break;
            case TicketState.ReplyAccepted:
                actions.AddRange([TicketActions.ScheduleCallback, TicketActions.Close]);
                break;
            case TicketState.AwaitingCallback:
                actions.AddRange([TicketActions.Callback, TicketActions.CallbackFailed, TicketActions.Close]);
                break;
            case TicketState.Closed:
                if (state.CloseKind is CloseKinds.Handled or CloseKinds.Unreachable) actions.Add(TicketActions.Reopen);
                return actions;
            case TicketState.None:
                return actions;
            default:
                break;
        }

        if (tasks.Any(t => t.State == TaskState.ToSign)) actions.Add(TicketActions.SignFor);
        if (tasks.Any(t => t.State == TaskState.InProgress)) actions.AddRange([TicketActions.SubDispatch, TicketActions.FirstContact, TicketActions.Reply]);
        if (tasks.Any(t => t.IsOpen && t.PendingReturn is null)) actions.Add(TicketActions.RequestReturn);
        if (tasks.Any(t => t.IsOpen && t.PendingReturn is not null)) actions.Add(TicketActions.DecideReturn);
        if (tasks.Any(t => t.State == TaskState.InProgress && t.PendingExtension is null)) actions.Add(TicketActions.RequestExtension);
        if (tasks.Any(t => t.IsOpen && t.PendingExtension is not null)) actions.Add(TicketActions.DecideExtension);
        if (state.State == TicketState.Replied) actions.Add(TicketActions.Review);
        actions.AddRange([TicketActions.Urge, TicketActions.Supervise, TicketActions.Note, TicketActions.AttachDuplicate]);
        return actions;
    }

    private static InvalidTransitionException Invalid(Ticket state, string command, string? reason = null) =>
        new(command, state.State.ToString(), TicketStateNames.Of(state.State), AllowedActions(state), reason);

    private static IReadOnlyList<ITicketEvent> Register(Ticket state, RegisterTicket c, DateTimeOffset now, TicketContext context)
    {
        if (state.State != TicketState.None)
            throw Invalid(state, c.Name, "工单已存在");

        var errors = new FieldErrors()
            .OneOf("channel", c.Channel, TicketVocabulary.Channels, "来源渠道")
            .OneOf("type", c.Type, TicketVocabulary.Types, "诉求类型")
            .OneOf("urgency", c.Urgency, TicketVocabulary.Urgencies, "紧急程度")
            .Require("content", c.Content, 4000, "诉求内容")
            .Optional("address", c.Address, 200, "详细地址")
            .Optional("callerName", c.CallerName, 50, "来电人姓名")
            .Optional("callId", c.CallId, 100, "通话编号");

        if (string.IsNullOrWhiteSpace(c.CategoryCode)) errors.Add("categoryCode", "事项分类不能为空");
        else if (!context.Reference.IsLeafCategory(c.CategoryCode)) errors.Add("categoryCode", $"事项分类 {Truncate(c.CategoryCode)} 不存在或不是第三级分类");

        if (string.IsNullOrWhiteSpace(c.AreaCode)) errors.Add("areaCode", "所属区域不能为空");
        else if (!context.Reference.IsArea(c.AreaCode)) errors.Add("areaCode", $"区域 {Truncate(c.AreaCode)} 不存在");

        if (string.IsNullOrWhiteSpace(c.CallerPhone))
        {
            if (!c.Anonymous) errors.Add("callerPhone", "联系电话不能为空（匿名诉求可不填）");
        }
        else if (!PhonePattern().IsMatch(c.CallerPhone)) errors.Add("callerPhone", "联系电话格式不正确（手机号 11 位，或固定电话）");

        if (c.CallIds.Count > 20) errors.Add("callIds", "关联通话不能超过 20 个");
        foreach (var (id, i) in c.CallIds.Select((id, i) => (id, i)))
            errors.Require($"callIds[{i}]", id, 100, "通话编号");

        errors.ThrowIfAny();

        var (dispatchDue, provisional, _) = context.Deadlines.Due(TimeLimitKind.Dispatch, c.Type!, c.Urgency!, now);
        var callIds = c.CallIds.Select(x => x.Trim()).Where(x => x.Length > 0 && x != c.CallId).Distinct(StringComparer.Ordinal).ToList();
        return
        [
            new TicketRegistered(c.TicketId, c.Number, c.Channel!, c.Type!, c.Urgency!, c.CategoryCode!, c.AreaCode!,
                (c.Address ?? "").Trim(), c.Content!.Trim(), c.Anonymous ? "" : (c.CallerName ?? "").Trim(), (c.CallerPhone ?? "").Trim(), c.Confidential,
                c.CallId, dispatchDue, provisional, c.Actor, now,
                c.Anonymous, callIds.Count == 0 ? null : callIds, c.RepeatOf.Count == 0 ? null : c.RepeatOf, c.ContactsLast30Days, context.Reference.CategoryVersion),
        ];
    }

    private static IReadOnlyList<ITicketEvent> AnswerDirectly(Ticket state, AnswerDirectly c, DateTimeOffset now)
    {
        new FieldErrors().Require("text", c.Text, 4000, "答复内容").Optional("knowledgeItemId", c.KnowledgeItemId, 64, "知识库条目").ThrowIfAny();
        return [new TicketAnsweredDirectly(state.Id, c.Text!.Trim(), string.IsNullOrWhiteSpace(c.KnowledgeItemId) ? null : c.KnowledgeItemId.Trim(), c.Actor, now)];
    }

    private static IReadOnlyList<ITicketEvent> OutOfScope(Ticket state, RejectOutOfScope c, DateTimeOffset now)
    {
        new FieldErrors()
            .OneOf("reasonCode", c.ReasonCode, OutOfScopeReasons.All.Keys.ToList(), "不予受理原因")
            .Require("referredTo", c.ReferredTo, 500, "告知的办理渠道")
            .Optional("note", c.Note, 1000, "说明")
            .ThrowIfAny();
        return [new TicketOutOfScope(state.Id, c.ReasonCode!, c.ReferredTo!.Trim(), c.Note?.Trim(), c.Actor, now)];
    }

    private static IReadOnlyList<ITicketEvent> Emergency(Ticket state, TransferToEmergency c, DateTimeOffset now)
    {
        var errors = new FieldErrors()
            .OneOf("line", c.Line, TicketVocabulary.EmergencyLines, "转接线路")
            .Require("note", c.Note, 1000, "转接记录")
            .Optional("callId", c.CallId, 100, "通话编号");
        if (c.TransferredAt is { } at && (at > now.AddMinutes(5) || at < state.RegisteredAt.AddDays(-1))) errors.Add("transferredAt", "转接时间不合理");
        errors.ThrowIfAny();
        return [new TicketTransferredToEmergency(state.Id, c.Line!, c.Note!.Trim(), c.CallId, c.TransferredAt ?? now, c.Actor, now)];
    }

    private static IReadOnlyList<ITicketEvent> Dispatch(Ticket state, DispatchTicket c, DateTimeOffset now, TicketContext context)
    {
        var errors = new FieldErrors().Optional("reason", c.Reason, 500, "派单说明").Optional("overrideReason", c.OverrideReason, 500, "改派理由");
        if (string.IsNullOrWhiteSpace(c.UnitId)) errors.Add("unitId", "承办单位不能为空");
        else if (!context.Reference.IsHandlingUnit(c.UnitId)) errors.Add("unitId", $"承办单位 {Truncate(c.UnitId)} 不存在或不能承办工单");
        for (var i = 0; i < c.CoUnitIds.Count; i++)
        {
            var co = c.CoUnitIds[i];
            if (string.IsNullOrWhiteSpace(co) || !context.Reference.IsHandlingUnit(co)) errors.Add($"coUnitIds[{i}]", $"协办单位 {Truncate(co ?? "")} 不存在或不能承办工单");
            else if (co == c.UnitId || c.CoUnitIds.Take(i).Contains(co)) errors.Add($"coUnitIds[{i}]", "协办单位不能与主办单位或其他协办单位重复");
        }
        if (c.CoUnitIds.Count > 10) errors.Add("coUnitIds", "协办单位不能超过 10 个");

        var suggested = context.Reference.SuggestUnit(state.CategoryCode, state.AreaCode);
        var overrideReason = string.IsNullOrWhiteSpace(c.OverrideReason) ? null : c.OverrideReason.Trim();
        var isOverride = !string.IsNullOrWhiteSpace(c.UnitId) && c.UnitId != suggested;
        if (isOverride && overrideReason is null && string.IsNullOrWhiteSpace(c.Reason))
            errors.Add("overrideReason", $"派单目录建议的承办单位是 {suggested}，改派其他单位必须说明理由");
        errors.ThrowIfAny();

        var (signDue, p1, _) = context.Deadlines.Due(TimeLimitKind.SignFor, state.Type, state.Urgency, now);
        var (replyDue, p2, _) = context.Deadlines.Due(TimeLimitKind.Reply, state.Type, state.Urgency, now);
        var (returnDue, p3, _) = context.Deadlines.Due(TimeLimitKind.ReturnWindow, state.Type, state.Urgency, now);
        var reason = string.IsNullOrWhiteSpace(c.Reason) ? null : c.Reason.Trim();
        var events = new List<ITicketEvent>
        {
            new TicketDispatched(state.Id, c.TaskId, c.UnitId!, TaskRoles.Main, reason, signDue, replyDue, p1 || p2 || p3, c.Actor, now,
                returnDue, suggested, isOverride ? overrideReason ?? reason : null, context.Reference.CatalogueVersion, p1, p2, p3),
        };
        for (var i = 0; i < c.CoUnitIds.Count; i++)
        {
            var taskId = i < c.CoTaskIds.Count ? c.CoTaskIds[i] : DerivedId(c.TaskId, i + 1);
            events.Add(new TicketDispatched(state.Id, taskId, c.CoUnitIds[i], TaskRoles.CoHandler, reason, signDue, replyDue, p1 || p2 || p3, c.Actor, now,
                returnDue, null, null, context.Reference.CatalogueVersion, p1, p2, p3));
        }
        return events;
    }

    private static IReadOnlyList<ITicketEvent> SubDispatch(Ticket state, SubDispatchTask c, DateTimeOffset now, TicketContext context)
    {
        var parent = state.Tasks.FindLast(t => t.UnitId == c.ActorUnitId && t.State == TaskState.InProgress)
            ?? throw Invalid(state, c.Name, "本单位没有办理中的任务（签收后才能下派）");
        var errors = new FieldErrors().Optional("reason", c.Reason, 500, "下派说明");
        if (string.IsNullOrWhiteSpace(c.UnitId)) errors.Add("unitId", "下派单位不能为空");
        else if (!context.Reference.IsHandlingUnit(c.UnitId) || !context.Reference.IsBelow(c.UnitId, c.ActorUnitId)) errors.Add("unitId", $"单位 {Truncate(c.UnitId)} 不是本单位的下级单位");
        else if (state.Tasks.Any(t => t.ParentTaskId == parent.TaskId && t.UnitId == c.UnitId && t.IsOpen)) errors.Add("unitId", "已下派给该单位，尚未办结");
        errors.ThrowIfAny();

        var (signDue, p1, _) = context.Deadlines.Due(TimeLimitKind.SignFor, state.Type, state.Urgency, now);
        var (replyDue, p2, _) = context.Deadlines.Due(TimeLimitKind.Reply, state.Type, state.Urgency, now);
        var (returnDue, p3, _) = context.Deadlines.Due(TimeLimitKind.ReturnWindow, state.Type, state.Urgency, now);
        // A subtask never gets more time than its parent has left.
        if (replyDue > parent.ReplyDueAt) (replyDue, p2) = (parent.ReplyDueAt, parent.Provisional);
        return [new TaskSubDispatched(state.Id, c.TaskId, parent.TaskId, c.UnitId!, c.ActorUnitId, string.IsNullOrWhiteSpace(c.Reason) ? null : c.Reason.Trim(), signDue, replyDue, returnDue, p1 || p2 || p3, c.Actor, now, p1, p2, p3)];
    }

    private static IReadOnlyList<ITicketEvent> SignFor(Ticket state, SignForTask c, DateTimeOffset now)
    {
        var task = state.Tasks.FindLast(t => t.UnitId == c.ActorUnitId && t.State == TaskState.ToSign)
            ?? throw Invalid(state, c.Name, "本单位没有待签收的任务");
        return [new TaskSignedFor(state.Id, task.TaskId, task.UnitId, c.Actor, now)];
    }

    private static IReadOnlyList<ITicketEvent> RequestReturn(Ticket state, RequestReturn c, DateTimeOffset now)
    {
        var task = state.Tasks.FindLast(t => t.UnitId == c.ActorUnitId && t.IsOpen)
            ?? throw Invalid(state, c.Name, "本单位没有可退回的任务");
        if (task.PendingReturn is not null) throw Invalid(state, c.Name, "退回申请已提交，等待审批");
        if (task.ReturnDueAt is { } due && now > due) throw Invalid(state, c.Name, "已超过退回时限，不能申请退回");
        new FieldErrors().Require("reason", c.Reason, 1000, "退回理由").Optional("legalBasis", c.LegalBasis, 1000, "法律法规依据").ThrowIfAny();
        return [new ReturnRequested(state.Id, task.TaskId, task.UnitId, c.Reason!.Trim(), string.IsNullOrWhiteSpace(c.LegalBasis) ? null : c.LegalBasis.Trim(), c.Actor, now)];
    }

    private static IReadOnlyList<ITicketEvent> DecideReturn(Ticket state, DecideReturn c, DateTimeOffset now, TicketContext context)
    {
        var task = PendingFor(state, c.Name, c.TaskId, c.ActorUnitId, t => t.PendingReturn is not null, "退回申请");
        var errors = new FieldErrors().Optional("comment", c.Comment, 1000, "审批意见");
        if (!c.Approve && string.IsNullOrWhiteSpace(c.Comment)) errors.Add("comment", "不同意退回必须填写意见");
        errors.ThrowIfAny();
        var comment = string.IsNullOrWhiteSpace(c.Comment) ? null : c.Comment.Trim();
        if (!c.Approve) return [new ReturnRejected(state.Id, task.TaskId, task.UnitId, comment!, c.Actor, now)];

        if (task.Role == TaskRoles.Main && task.ParentTaskId is null)
        {
            var (due, provisional, _) = context.Deadlines.Due(TimeLimitKind.Dispatch, state.Type, state.Urgency, now);
            return [new ReturnApproved(state.Id, task.TaskId, task.UnitId, comment, due, provisional, c.Actor, now)];
        }
        return [new ReturnApproved(state.Id, task.TaskId, task.UnitId, comment, null, false, c.Actor, now)];
    }

    private static IReadOnlyList<ITicketEvent> RequestExtension(Ticket state, RequestExtension c, DateTimeOffset now, TicketContext context)
    {
        var task = state.Tasks.FindLast(t => t.UnitId == c.ActorUnitId && t.State == TaskState.InProgress)
            ?? throw Invalid(state, c.Name, "本单位没有办理中的任务");
        if (task.PendingExtension is not null) throw Invalid(state, c.Name, "延期申请已提交，等待审批");
        if (now > task.ReplyDueAt) throw Invalid(state, c.Name, "已超过办理时限，不能申请延期");
        if (task.ExtensionCount >= context.Rules.MaxExtensions) throw Invalid(state, c.Name, $"每个任务最多延期 {context.Rules.MaxExtensions} 次");
        var errors = new FieldErrors().Require("reason", c.Reason, 1000, "延期理由");
        if (c.Days is not { } days || days < 1 || days > context.Rules.MaxExtensionDays) errors.Add("days", $"延期天数必须是 1–{context.Rules.MaxExtensionDays} 个工作日");
        errors.ThrowIfAny();
        return [new ExtensionRequested(state.Id, task.TaskId, task.UnitId, c.Days!.Value, c.Reason!.Trim(), c.Actor, now)];
    }

    private static IReadOnlyList<ITicketEvent> DecideExtension(Ticket state, DecideExtension c, DateTimeOffset now, TicketContext context)
    {
        var task = PendingFor(state, c.Name, c.TaskId, c.ActorUnitId, t => t.PendingExtension is not null, "延期申请");
        var asked = task.PendingExtension!.Days;
        var errors = new FieldErrors().Optional("comment", c.Comment, 1000, "审批意见");
        if (!c.Approve && string.IsNullOrWhiteSpace(c.Comment)) errors.Add("comment", "不同意延期必须填写意见");
        if (c.Approve && c.Days is { } d && (d < 1 || d > asked)) errors.Add("days", $"批准天数必须是 1–{asked} 个工作日");
        errors.ThrowIfAny();
        var comment = string.IsNullOrWhiteSpace(c.Comment) ? null : c.Comment.Trim();
        if (!c.Approve) return [new ExtensionRejected(state.Id, task.TaskId, task.UnitId, comment!, c.Actor, now)];
        var granted = c.Days ?? asked;
        var (due, provisional, _) = context.Deadlines.Extend(task.ReplyDueAt, granted);
        return [new ExtensionApproved(state.Id, task.TaskId, task.UnitId, granted, due, provisional, comment, c.Actor, now)];
    }

    /// <summary>The task whose pending request the actor may decide: the office any, a unit those it sub-dispatched.</summary>
    private static TicketTask PendingFor(Ticket state, string command, Guid? taskId, string? actorUnitId, Func<TicketTask, bool> pending, string what)
    {
        var candidates = state.Tasks.Where(t => t.IsOpen && pending(t)).Where(t => actorUnitId is null
            ? t.ParentTaskId is null
            : t.ParentTaskId is { } p && state.TaskOf(p)?.UnitId == actorUnitId).ToList();
        var task = taskId is { } id ? candidates.Find(t => t.TaskId == id) : candidates.Count == 1 ? candidates[0] : null;
        if (task is not null) return task;
        if (taskId is null && candidates.Count > 1) throw new DomainValidationException("taskId", $"有多个待审批的{what}，请指定任务");
        throw Invalid(state, command, actorUnitId is null ? $"没有待热线办审批的{what}" : $"本单位没有待审批的下级{what}");
    }

    private static IReadOnlyList<ITicketEvent> Note(Ticket state, AddProgressNote c, DateTimeOffset now)
    {
        new FieldErrors().Require("text", c.Text, 2000, "办理进展").ThrowIfAny();
        if (c.ActorUnitId is null) return [new ProgressNoted(state.Id, null, null, c.Text!.Trim(), c.Actor, now)];
        var task = state.Tasks.FindLast(t => t.UnitId == c.ActorUnitId && t.State == TaskState.InProgress)
            ?? throw Invalid(state, c.Name, "本单位没有办理中的任务");
        return [new ProgressNoted(state.Id, task.TaskId, task.UnitId, c.Text!.Trim(), c.Actor, now)];
    }

    private static IReadOnlyList<ITicketEvent> FirstContact(Ticket state, RecordFirstContact c, DateTimeOffset now)
    {
        var task = state.Tasks.FindLast(t => t.UnitId == c.ActorUnitId && t.State == TaskState.InProgress)
            ?? throw Invalid(state, c.Name, "本单位没有办理中的任务");
        if (task.FirstContactAt is not null) throw Invalid(state, c.Name, "已记录首次联系时间");
        var at = c.ContactedAt ?? now;
        if (at > now.AddMinutes(5) || at < task.DispatchedAt) throw new DomainValidationException("contactedAt", "首次联系时间必须在派单之后、当前时间之前");
        return [new CitizenContacted(state.Id, task.TaskId, task.UnitId, at, c.Actor, now)];
    }

    private static IReadOnlyList<ITicketEvent> Reply(Ticket state, SubmitReply c, DateTimeOffset now)
    {
        var errors = new FieldErrors()
            .OneOf("result", c.Result, TicketVocabulary.ReplyResults, "办理结果")
            .Require("text", c.Text, 4000, "答复内容")
            .Optional("unresolvedReason", c.UnresolvedReason, 1000, "未解决原因");
        if (c.Result == "unresolved" && string.IsNullOrWhiteSpace(c.UnresolvedReason)) errors.Add("unresolvedReason", "办理结果为未解决时必须说明原因");
        errors.ThrowIfAny();
        var task = state.Tasks.FindLast(t => t.UnitId == c.ActorUnitId && t.State == TaskState.InProgress)
            ?? throw Invalid(state, c.Name, "本单位没有办理中的任务");
        return [new ReplySubmitted(state.Id, task.TaskId, task.UnitId, c.Result!, c.Text!.Trim(), c.Actor, now, c.Result == "unresolved" ? c.UnresolvedReason!.Trim() : null)];
    }

    private static IReadOnlyList<ITicketEvent> Review(Ticket state, ReviewReply c, DateTimeOffset now, TicketContext context)
    {
        var errors = new FieldErrors().Optional("comment", c.Comment, 1000, "审核意见");
        if (!c.Accept && string.IsNullOrWhiteSpace(c.Comment)) errors.Add("comment", "退回重办必须填写审核意见");
        errors.ThrowIfAny();

        var task = state.MainTask!;
        if (c.Accept) return [new ReplyAccepted(state.Id, task.TaskId, c.Comment, c.Actor, now)];
        var (due, provisional, _) = context.Deadlines.Due(TimeLimitKind.Reply, state.Type, state.Urgency, now);
        return [new ReworkOrdered(state.Id, task.TaskId, "审核退回：" + c.Comment!.Trim(), due, provisional, c.Actor, now)];
    }

    private static IReadOnlyList<ITicketEvent> Callback(Ticket state, RecordCallback c, DateTimeOffset now, TicketContext context)
    {
        var unsatisfied = c.Satisfaction is not null && context.Rules.Unsatisfied.Contains(c.Satisfaction);
        var errors = new FieldErrors()
            .OneOf("satisfaction", c.Satisfaction, context.Rules.Satisfactions, "满意度")
            .Optional("comment", c.Comment, 1000, "回访记录");
        if (unsatisfied && string.IsNullOrWhiteSpace(c.Comment)) errors.Add("comment", $"{c.Satisfaction}时必须填写原因");
        errors.ThrowIfAny();

        var recorded = new CallbackRecorded(state.Id, c.Satisfaction!, c.Comment?.Trim(), c.Actor, now);
        var main = state.MainTask;
        if (!unsatisfied || !context.Rules.ReworkOnUnsatisfied || main is null)
            return [recorded, new TicketClosed(state.Id, "回访" + c.Satisfaction, c.Actor, now)];

        var (due, provisional, _) = context.Deadlines.Due(TimeLimitKind.Reply, state.Type, state.Urgency, now);
        return [recorded, new ReworkOrdered(state.Id, main.TaskId, $"回访{c.Satisfaction}：" + c.Comment!.Trim(), due, provisional, c.Actor, now)];
    }

    private static IReadOnlyList<ITicketEvent> CallbackFailed(Ticket state, RecordCallbackAttemptFailed c, DateTimeOffset now, TicketContext context)
    {
        new FieldErrors().Require("reason", c.Reason, 500, "未接通原因").ThrowIfAny();
        var attempt = state.CallbackAttempts + 1;
        var failed = new CallbackAttemptFailed(state.Id, attempt, c.Reason!.Trim(), c.Actor, now);
        return attempt >= context.Rules.CallbackMaxAttempts
            ? [failed, new CallbackUnreachable(state.Id, attempt, c.Actor, now)]
            : [failed];
    }

    private static IReadOnlyList<ITicketEvent> Urge(Ticket state, UrgeTicket c, DateTimeOffset now)
    {
        new FieldErrors().Require("reason", c.Reason, 500, "催办事由").ThrowIfAny();
        TicketTask? task;
        if (c.TaskId is { } id)
        {
            task = state.TaskOf(id);
            if (task is null || !task.IsOpen) throw new DomainValidationException("taskId", "只能催办未办结的任务");
        }
        else task = state.MainTask is { IsOpen: true } main ? main : null;
        return [new TicketUrged(state.Id, task?.TaskId, task?.UnitId, c.Reason!.Trim(), c.Automatic, c.Actor, now)];
    }

    private static IReadOnlyList<ITicketEvent> Supervise(Ticket state, SuperviseTicket c, DateTimeOffset now)
    {
        new FieldErrors().OneOf("level", c.Level, SupervisionLevels.All, "督办级别").Require("reason", c.Reason, 500, "督办事由").ThrowIfAny();
        var reason = c.Reason!.Trim();
        if (state.Supervision is { } current)
        {
            if (SupervisionLevels.Rank(c.Level!) <= SupervisionLevels.Rank(current.Level))
                throw Invalid(state, c.Name, $"已在{SupervisionLevels.NameOf(current.Level)}，只能升级督办");
            return [new SupervisionRaised(state.Id, current.Level, c.Level!, reason, c.Automatic, c.Actor, now)];
        }
        TicketTask? task;
        if (c.TaskId is { } id)
        {
            task = state.TaskOf(id);
            if (task is null || !task.IsOpen) throw new DomainValidationException("taskId", "只能督办未办结的任务");
        }
        else task = state.MainTask is { IsOpen: true } main ? main : null;
        return [new SupervisionStarted(state.Id, task?.TaskId, task?.UnitId, c.Level!, reason, c.Automatic, c.Actor, now)];
    }

    private static IReadOnlyList<ITicketEvent> Merge(Ticket state, MergeIntoMaster c, DateTimeOffset now)
    {
        if (c.MasterTicketId == state.Id) throw new DomainValidationException("masterId", "不能与自身并单");
        if (!c.MasterIsOpen) throw new DomainValidationException("masterId", "主工单已办结，不能并入");
        new FieldErrors().Optional("reason", c.Reason, 500, "并单说明").ThrowIfAny();
        return [new TicketMerged(state.Id, c.MasterTicketId, c.MasterNumber, string.IsNullOrWhiteSpace(c.Reason) ? null : c.Reason.Trim(), c.Actor, now)];
    }

    private static IReadOnlyList<ITicketEvent> Attach(Ticket state, AttachDuplicate c, DateTimeOffset now)
    {
        if (c.DuplicateTicketId == state.Id) throw new DomainValidationException("masterId", "不能与自身并单");
        if (state.Duplicates.Any(d => d.TicketId == c.DuplicateTicketId)) throw Invalid(state, c.Name, "该工单已并入");
        return [new DuplicateAttached(state.Id, c.DuplicateTicketId, c.DuplicateNumber, c.DuplicateContent, c.Actor, now)];
    }

    private static IReadOnlyList<ITicketEvent> Close(Ticket state, CloseTicket c, DateTimeOffset now)
    {
        new FieldErrors().Require("reason", c.Reason, 500, "办结说明").ThrowIfAny();
        return [new TicketClosed(state.Id, c.Reason!.Trim(), c.Actor, now)];
    }

    private static IReadOnlyList<ITicketEvent> Reopen(Ticket state, ReopenTicket c, DateTimeOffset now, TicketContext context)
    {
        new FieldErrors().Require("reason", c.Reason, 1000, "重启理由").ThrowIfAny();
        var main = state.MainTask;
        if (main is not null && main.State != TaskState.Returned)
        {
            var (due, provisional, _) = context.Deadlines.Due(TimeLimitKind.Reply, state.Type, state.Urgency, now);
            return [new TicketReopened(state.Id, main.TaskId, c.Reason!.Trim(), due, provisional, c.Actor, now)];
        }
        var (dispatchDue, p, _) = context.Deadlines.Due(TimeLimitKind.Dispatch, state.Type, state.Urgency, now);
        return [new TicketReopened(state.Id, null, c.Reason!.Trim(), dispatchDue, p, c.Actor, now)];
    }

    private static IReadOnlyList<ITicketEvent> Hold(Ticket state, HoldDispatch c, DateTimeOffset now)
    {
        new FieldErrors().Require("reason", c.Reason, 500, "暂缓原因").ThrowIfAny();
        return [new DispatchHeld(state.Id, c.Reason!.Trim(), c.Actor, now)];
    }

    private static IReadOnlyList<ITicketEvent> Release(Ticket state, ReleaseDispatchHold c, DateTimeOffset now)
    {
        new FieldErrors().Optional("reason", c.Reason, 500, "解除说明").ThrowIfAny();
        return [new DispatchHoldReleased(state.Id, string.IsNullOrWhiteSpace(c.Reason) ? null : c.Reason.Trim(), c.Actor, now)];
    }

    private static IReadOnlyList<ITicketEvent> Flag(Ticket state, FlagForDispatcher c, DateTimeOffset now)
    {
        if (state.State != TicketState.Registered) throw Invalid(state, c.Name, "只有待派单的工单需要派单员处理");
        new FieldErrors()
            .OneOf("reasonCode", c.ReasonCode, DispatcherAttentionReasons.All, "提醒原因")
            .Optional("detail", c.Detail, 500, "说明")
            .ThrowIfAny();
        if (state.DispatcherFlag?.ReasonCode == c.ReasonCode) return [];
        var detail = string.IsNullOrWhiteSpace(c.Detail) ? DispatcherAttentionReasons.NameOf(c.ReasonCode!) : c.Detail.Trim();
        return [new DispatcherAttentionFlagged(state.Id, c.ReasonCode!, detail, c.Actor, now)];
    }

    /// <summary>
    /// Every open provisional deadline computed again from its basis on the current calendar; an event only when a date
    /// or a provisional flag changed, so a second run (or a run before the missing year is imported) decides nothing.
    /// </summary>
    private static IReadOnlyList<ITicketEvent> Recompute(Ticket state, RecomputeDeadlines c, DateTimeOffset now, TicketContext context)
    {
        new FieldErrors().Optional("reason", c.Reason, 500, "重算原因").ThrowIfAny();
        if (!state.IsOpen) return [];
        var changes = new List<DeadlineChange>();
        void Check(Guid? taskId, string kind, DeadlineBasis? basis, DateTimeOffset oldDue, bool oldProvisional)
        {
            if (!oldProvisional || basis is null) return;
            var (due, provisional, _) = basis.Evaluate(context.Deadlines, state.Type, state.Urgency);
            if (due != oldDue || provisional != oldProvisional) changes.Add(new DeadlineChange(taskId, kind, oldDue, due, oldProvisional, provisional));
        }

        if (state.State == TicketState.Registered) Check(null, DeadlineKinds.Dispatch, state.DispatchBasis, state.DispatchDueAt, state.DispatchDueProvisional);
        foreach (var t in state.Tasks.Where(t => t.IsOpen))
        {
            Check(t.TaskId, DeadlineKinds.SignFor, t.SignBasis, t.SignDueAt, t.SignDueProvisional);
            Check(t.TaskId, DeadlineKinds.Reply, t.ReplyBasis, t.ReplyDueAt, t.ReplyDueProvisional);
            if (t.ReturnDueAt is { } returnDue) Check(t.TaskId, DeadlineKinds.ReturnWindow, t.ReturnBasis, returnDue, t.ReturnDueProvisional);
        }
        return changes.Count == 0 ? [] : [new DeadlinesRecomputed(state.Id, changes, string.IsNullOrWhiteSpace(c.Reason) ? "工作日历更新" : c.Reason.Trim(), c.Actor, now)];
    }

    /// <summary>A stable id derived from another (co-handler task ids from the main task id).</summary>
    public static Guid DerivedId(Guid from, int index)
    {
        var bytes = from.ToByteArray();
        bytes[15] ^= (byte)index;
        bytes[14] ^= (byte)(index >> 8);
        bytes[13] ^= 0x5A;
        return new Guid(bytes);
    }

    private static string Truncate(string value) => value.Length <= 32 ? value : value[..32] + "…";

    [GeneratedRegex(@"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|\d{7,8})$")]
    private static partial Regex PhonePattern();
}
