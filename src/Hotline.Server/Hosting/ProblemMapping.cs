using System.Text.Json;
using Hotline.Domain.Common;
using Hotline.EventStore;
using Hotline.Server.Tickets;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace Hotline.Server.Hosting;

/// <summary>Every error becomes a problem document: the field and the reason, never a stack trace, never a bare 500 for bad input.</summary>
public sealed partial class ProblemMapping(IProblemDetailsService problems, ILogger<ProblemMapping> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var context = httpContext;
        var problem = Map(exception, context);
        if (problem is null)
        {
            logger.LogError(exception, "Unhandled error on {Method} {Path}", context.Request.Method, context.Request.Path);
            problem = new ProblemDetails { Status = 500, Title = "服务器内部错误", Detail = "请求未能完成，请稍后重试；如持续出现请联系管理员。" };
        }
        else
        {
            logger.LogInformation("{Method} {Path} → {Status}: {Title}", context.Request.Method, context.Request.Path, problem.Status, problem.Title);
        }

        if (exception is EventStoreUnavailableException) context.Response.Headers.RetryAfter = "5";
        context.Response.StatusCode = problem.Status ?? 500;
        if (await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem, Exception = exception })) return true;
        // The client asked for something else (Accept: text/html): still a problem document, never an error page.
        problem.Extensions["traceId"] = System.Diagnostics.Activity.Current?.Id ?? context.TraceIdentifier;
        await context.Response.WriteAsJsonAsync(problem, problem.GetType(), (JsonSerializerOptions?)null, "application/problem+json", cancellationToken);
        return true;
    }

    public static ProblemDetails? Map(Exception exception, HttpContext? context = null) => exception switch
    {
        DomainValidationException v => new HttpValidationProblemDetails(v.Errors.ToDictionary(e => e.Key, e => e.Value)) { Status = 400, Title = "输入有误", Detail = v.Message },
        InvalidTransitionException t => new ProblemDetails
        {
            Status = 409,
            Title = "当前状态不允许此操作",
            Detail = t.Message,
            Extensions = { ["state"] = t.State, ["stateName"] = t.StateName, ["allowedActions"] = t.Allowed },
        },
        TicketService.VersionMismatchException m => new ProblemDetails
        {
            Status = 412,
            Title = "工单已被他人更新",
            Detail = $"请求基于版本 {m.Expected}，工单当前版本为 {m.Actual}。请刷新后重试。",
            Extensions = { ["currentVersion"] = m.Actual },
        },
        PreconditionRequiredException => new HttpValidationProblemDetails(new Dictionary<string, string[]> { ["If-Match"] = ["写操作必须带 If-Match: \"<版本号>\""] }) { Status = 428, Title = "缺少 If-Match 版本号" },
        TicketService.TicketNotFoundException => new ProblemDetails { Status = 404, Title = "工单不存在" },
        EventStoreUnavailableException => new ProblemDetails { Status = 503, Title = "存储暂不可用", Detail = "事件存储暂时无法连接，请稍后重试（Retry-After 秒后）。" },
        BadHttpRequestException b => BadRequest(b),
        JsonException j => new HttpValidationProblemDetails(new Dictionary<string, string[]> { [JsonField(j.Path)] = ["JSON 格式或字段类型不正确"] }) { Status = 400, Title = "请求体无法解析" },
        OperationCanceledException when context?.RequestAborted.IsCancellationRequested == true => new ProblemDetails { Status = 499, Title = "请求已取消" },
        _ => null,
    };

    private static ProblemDetails BadRequest(BadHttpRequestException b)
    {
        if (b.InnerException is JsonException j)
            return new HttpValidationProblemDetails(new Dictionary<string, string[]> { [JsonField(j.Path)] = ["JSON 格式或字段类型不正确"] }) { Status = 400, Title = "请求体无法解析" };
        if (b.StatusCode == StatusCodes.Status413PayloadTooLarge)
            return new ProblemDetails { Status = 413, Title = "请求体过大", Detail = "请求体超过服务器允许的大小。" };
        if (b.StatusCode == StatusCodes.Status415UnsupportedMediaType)
            return new HttpValidationProblemDetails(new Dictionary<string, string[]> { ["Content-Type"] = ["请求体必须是 JSON（Content-Type: application/json）"] }) { Status = 415, Title = "不支持的请求体类型" };
        // Minimal APIs say which parameter: 'Failed to bind parameter "int? page" from "abc".' / 'Required parameter "string areaCode" was not provided …'
        var m = ParameterName().Match(b.Message);
        var field = m.Success ? m.Groups["name"].Value : "request";
        var reason = b.Message.StartsWith("Required", StringComparison.Ordinal) ? "缺少必填参数" : b.Message.Contains("body", StringComparison.OrdinalIgnoreCase) ? "请求体缺失或格式不正确" : "参数格式不正确";
        return new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field] = [reason] }) { Status = b.StatusCode, Title = "请求无效" };
    }

    [System.Text.RegularExpressions.GeneratedRegex("parameter \"(?:[^\"]*\\s)?(?<name>[A-Za-z_][A-Za-z0-9_]*)\"")]
    private static partial System.Text.RegularExpressions.Regex ParameterName();

    private static string JsonField(string? path) => string.IsNullOrEmpty(path) || path == "$" ? "body" : path.TrimStart('$', '.');
}
