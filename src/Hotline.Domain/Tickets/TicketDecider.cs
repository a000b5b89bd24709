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

        if (command is not RegisterTicket && !AllowedActions(state).Contains(command.Name))
            throw new InvalidTransitionException(command.Name, state.State.ToString(), TicketStateNames.Of(state.State), AllowedActions(state));

        return command switch
        {
            RegisterTicket c => Register(state, c, now, context),
            AnswerDirectly c => AnswerDirectly(state, c, now),
            DispatchTicket c => Dispatch(state, c, now, context),
            SignForTask c => SignFor(state, c, now),
            SubmitReply c => Reply(state, c, now),
            ReviewReply c => Review(state, c, now, context),
            ScheduleCallback c => [new CallbackScheduled(state.Id, c.Actor, now)],
            RecordCallback c => Callback(state, c, now, context),
            CloseTicket c => Close(state, c, now),
            _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "Unknown command"),
        };
    }

    /// <summary>The actions the API offers in this state (the reason a 409 names).</summary>
    public static IReadOnlyList<string> AllowedActions(Ticket state) => state.State switch
    {
        TicketState.Registered => [TicketActions.AnswerDirectly, TicketActions.Dispatch],
        TicketState.Dispatched => [TicketActions.SignFor],
        TicketState.InProgress => [TicketActions.Reply],
        TicketState.Replied => [TicketActions.Review],
        TicketState.ReplyAccepted => [TicketActions.ScheduleCallback, TicketActions.Close],
        TicketState.AwaitingCallback => [TicketActions.Callback, TicketActions.Close],
        _ => [],
    };

    private static IReadOnlyList<ITicketEvent> Register(Ticket state, RegisterTicket c, DateTimeOffset now, TicketContext context)
    {
        if (state.State != TicketState.None)
            throw new InvalidTransitionException(c.Name, state.State.ToString(), TicketStateNames.Of(state.State), AllowedActions(state), "工单已存在");

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

        if (string.IsNullOrWhiteSpace(c.CallerPhone)) errors.Add("callerPhone", "联系电话不能为空");
        else if (!PhonePattern().IsMatch(c.CallerPhone)) errors.Add("callerPhone", "联系电话格式不正确（手机号 11 位，或固定电话）");

        errors.ThrowIfAny();

        var (dispatchDue, provisional, _) = context.Deadlines.Due(TimeLimitKind.Dispatch, c.Type!, c.Urgency!, now);
        return
        [
            new TicketRegistered(c.TicketId, c.Number, c.Channel!, c.Type!, c.Urgency!, c.CategoryCode!, c.AreaCode!,
                (c.Address ?? "").Trim(), c.Content!.Trim(), (c.CallerName ?? "").Trim(), c.CallerPhone!.Trim(), c.Confidential,
                c.CallId, dispatchDue, provisional, c.Actor, now),
        ];
    }

    private static IReadOnlyList<ITicketEvent> AnswerDirectly(Ticket state, AnswerDirectly c, DateTimeOffset now)
    {
        new FieldErrors().Require("text", c.Text, 4000, "答复内容").Optional("knowledgeItemId", c.KnowledgeItemId, 64, "知识库条目").ThrowIfAny();
        return [new TicketAnsweredDirectly(state.Id, c.Text!.Trim(), c.KnowledgeItemId, c.Actor, now)];
    }

    private static IReadOnlyList<ITicketEvent> Dispatch(Ticket state, DispatchTicket c, DateTimeOffset now, TicketContext context)
    {
        var errors = new FieldErrors().Optional("reason", c.Reason, 500, "派单说明");
        if (string.IsNullOrWhiteSpace(c.UnitId)) errors.Add("unitId", "承办单位不能为空");
        else if (!context.Reference.IsHandlingUnit(c.UnitId)) errors.Add("unitId", $"承办单位 {Truncate(c.UnitId)} 不存在或不能承办工单");
        errors.ThrowIfAny();

        var (signDue, p1, _) = context.Deadlines.Due(TimeLimitKind.SignFor, state.Type, state.Urgency, now);
        var (replyDue, p2, _) = context.Deadlines.Due(TimeLimitKind.Reply, state.Type, state.Urgency, now);
        return [new TicketDispatched(state.Id, c.TaskId, c.UnitId!, TaskRoles.Main, c.Reason, signDue, replyDue, p1 || p2, c.Actor, now)];
    }

    private static IReadOnlyList<ITicketEvent> SignFor(Ticket state, SignForTask c, DateTimeOffset now)
    {
        var task = state.Tasks.FindLast(t => t.UnitId == c.ActorUnitId && t.State == TaskState.ToSign)
            ?? throw new InvalidTransitionException(c.Name, state.State.ToString(), TicketStateNames.Of(state.State), AllowedActions(state), "本单位没有待签收的任务");
        return [new TaskSignedFor(state.Id, task.TaskId, task.UnitId, c.Actor, now)];
    }

    private static IReadOnlyList<ITicketEvent> Reply(Ticket state, SubmitReply c, DateTimeOffset now)
    {
        new FieldErrors()
            .OneOf("result", c.Result, TicketVocabulary.ReplyResults, "办理结果")
            .Require("text", c.Text, 4000, "答复内容")
            .ThrowIfAny();
        var task = state.Tasks.FindLast(t => t.UnitId == c.ActorUnitId && t.State == TaskState.InProgress)
            ?? throw new InvalidTransitionException(c.Name, state.State.ToString(), TicketStateNames.Of(state.State), AllowedActions(state), "本单位没有办理中的任务");
        return [new ReplySubmitted(state.Id, task.TaskId, task.UnitId, c.Result!, c.Text!.Trim(), c.Actor, now)];
    }

    private static IReadOnlyList<ITicketEvent> Review(Ticket state, ReviewReply c, DateTimeOffset now, TicketContext context)
    {
        var errors = new FieldErrors().Optional("comment", c.Comment, 1000, "审核意见");
        if (!c.Accept && string.IsNullOrWhiteSpace(c.Comment)) errors.Add("comment", "退回重办必须填写审核意见");
        errors.ThrowIfAny();

        var task = state.Tasks.FindLast(t => t.State == TaskState.Replied)!;
        if (c.Accept) return [new ReplyAccepted(state.Id, task.TaskId, c.Comment, c.Actor, now)];
        var (due, provisional, _) = context.Deadlines.Due(TimeLimitKind.Reply, state.Type, state.Urgency, now);
        return [new ReworkOrdered(state.Id, task.TaskId, "审核退回：" + c.Comment!.Trim(), due, provisional, c.Actor, now)];
    }

    private static IReadOnlyList<ITicketEvent> Callback(Ticket state, RecordCallback c, DateTimeOffset now, TicketContext context)
    {
        var errors = new FieldErrors()
            .OneOf("satisfaction", c.Satisfaction, TicketVocabulary.Satisfactions, "满意度")
            .Optional("comment", c.Comment, 1000, "回访记录");
        if (c.Satisfaction == "不满意" && string.IsNullOrWhiteSpace(c.Comment)) errors.Add("comment", "不满意时必须填写原因");
        errors.ThrowIfAny();

        var recorded = new CallbackRecorded(state.Id, c.Satisfaction!, c.Comment?.Trim(), c.Actor, now);
        if (c.Satisfaction != "不满意")
            return [recorded, new TicketClosed(state.Id, "回访" + c.Satisfaction, c.Actor, now)];

        var task = state.MainTask!;
        var (due, provisional, _) = context.Deadlines.Due(TimeLimitKind.Reply, state.Type, state.Urgency, now);
        return [recorded, new ReworkOrdered(state.Id, task.TaskId, "回访不满意：" + c.Comment!.Trim(), due, provisional, c.Actor, now)];
    }

    private static IReadOnlyList<ITicketEvent> Close(Ticket state, CloseTicket c, DateTimeOffset now)
    {
        new FieldErrors().Require("reason", c.Reason, 500, "办结说明").ThrowIfAny();
        return [new TicketClosed(state.Id, c.Reason!.Trim(), c.Actor, now)];
    }

    private static string Truncate(string value) => value.Length <= 32 ? value : value[..32] + "…";

    [GeneratedRegex(@"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|\d{7,8})$")]
    private static partial Regex PhonePattern();
}
