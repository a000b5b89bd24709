namespace Hotline.Domain.Common;

/// <summary>A command is not allowed in the current state (HTTP 409).</summary>
public sealed class InvalidTransitionException : Exception
{
    public InvalidTransitionException(string command, string state, string stateName, IReadOnlyList<string> allowed, string? reason = null)
        : base(reason ?? $"'{command}' is not allowed when the ticket is {stateName} ({state}). Allowed: {(allowed.Count == 0 ? "none" : string.Join(", ", allowed))}.")
    {
        Command = command;
        State = state;
        StateName = stateName;
        Allowed = allowed;
    }

    public InvalidTransitionException() : this("", "", "", []) { }
    public InvalidTransitionException(string message) : base(message) { Command = State = StateName = ""; Allowed = []; }
    public InvalidTransitionException(string message, Exception inner) : base(message, inner) { Command = State = StateName = ""; Allowed = []; }

    public string Command { get; }
    public string State { get; }
    public string StateName { get; }
    public IReadOnlyList<string> Allowed { get; }
}

/// <summary>Input that breaks a rule, by field (HTTP 400 with a validation problem document).</summary>
public sealed class DomainValidationException : Exception
{
    public DomainValidationException(IReadOnlyDictionary<string, string[]> errors)
        : base("One or more fields are invalid: " + string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")))
    {
        Errors = errors;
    }

    public DomainValidationException(string field, string reason) : this(new Dictionary<string, string[]> { [field] = [reason] }) { }
    public DomainValidationException() : this(new Dictionary<string, string[]>()) { }
    public DomainValidationException(string message) : base(message) { Errors = new Dictionary<string, string[]>(); }
    public DomainValidationException(string message, Exception inner) : base(message, inner) { Errors = new Dictionary<string, string[]>(); }

    public IReadOnlyDictionary<string, string[]> Errors { get; }
}

/// <summary>Collects field errors, then throws them all at once.</summary>
public sealed class FieldErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public FieldErrors Add(string field, string reason)
    {
        if (!_errors.TryGetValue(field, out var list)) _errors[field] = list = [];
        list.Add(reason);
        return this;
    }

    public FieldErrors Require(string field, string? value, int maxLength, string label)
    {
        if (string.IsNullOrWhiteSpace(value)) Add(field, $"{label}不能为空");
        else if (value.Length > maxLength) Add(field, $"{label}不能超过 {maxLength} 个字符");
        else if (value.Any(c => char.IsControl(c) && c is not '\n' and not '\r' and not '\t')) Add(field, $"{label}含有控制字符");
        return this;
    }

    public FieldErrors Optional(string field, string? value, int maxLength, string label)
    {
        if (value is null) return this;
        if (value.Length > maxLength) Add(field, $"{label}不能超过 {maxLength} 个字符");
        else if (value.Any(c => char.IsControl(c) && c is not '\n' and not '\r' and not '\t')) Add(field, $"{label}含有控制字符");
        return this;
    }

    public FieldErrors OneOf(string field, string? value, IReadOnlyCollection<string> allowed, string label)
    {
        if (string.IsNullOrWhiteSpace(value)) Add(field, $"{label}不能为空");
        else if (!allowed.Contains(value)) Add(field, $"{label}必须是以下之一: {string.Join("/", allowed)}");
        return this;
    }

    public bool Any => _errors.Count > 0;

    public void ThrowIfAny()
    {
        if (_errors.Count > 0)
            throw new DomainValidationException(_errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal));
    }
}
