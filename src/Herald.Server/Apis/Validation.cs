using System.Text.RegularExpressions;

namespace Herald.Server.Apis;

/// <summary>Collects field errors and turns them into a 400 validation problem.</summary>
public sealed partial class Validation
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    /// <summary>True when no error was recorded.</summary>
    public bool Ok => _errors.Count == 0;

    /// <summary>Records an error for <paramref name="field"/> unless <paramref name="condition"/> holds.</summary>
    public Validation Require(bool condition, string field, string message)
    {
        if (!condition)
        {
            Add(field, message);
        }
        return this;
    }

    /// <summary>Records an error for <paramref name="field"/>.</summary>
    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list))
        {
            _errors[field] = list = [];
        }
        list.Add(message);
    }

    /// <summary>Checks an id (person, team, device): 1–64 characters of letters, digits and <c>. _ @ -</c>.</summary>
    public Validation Id(string? value, string field)
    {
        if (string.IsNullOrEmpty(value))
        {
            Add(field, "is required");
        }
        else if (!IsId(value))
        {
            Add(field, "must be 1-64 characters: letters, digits, '.', '_', '@', '-', starting with a letter or digit");
        }
        return this;
    }

    /// <summary>Checks an optional text's length.</summary>
    public Validation MaxLength(string? value, int max, string field) =>
        Require(value is null || value.Length <= max, field, $"must be at most {max} characters");

    /// <summary>The errors as one line: <c>field: message, message; field: message</c>.</summary>
    public string Detail => string.Join("; ", _errors.Select(kv => $"{kv.Key}: {string.Join(", ", kv.Value)}"));

    /// <summary>The 400 result.</summary>
    public IResult Problem() => Results.ValidationProblem(
        _errors.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()), title: "Invalid request", detail: Detail);

    /// <summary>True for a valid id.</summary>
    public static bool IsId(string value) => IdPattern().IsMatch(value);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")]
    private static partial Regex IdPattern();
}

/// <summary>Shortcuts for problem results.</summary>
public static class Problems
{
    /// <summary>404 naming what is missing.</summary>
    public static IResult NotFound(string what) => Results.Problem(statusCode: 404, title: "Not found", detail: what);

    /// <summary>403 with a reason.</summary>
    public static IResult Forbidden(string why) => Results.Problem(statusCode: 403, title: "Forbidden", detail: why);

    /// <summary>409 with a reason.</summary>
    public static IResult Conflict(string why) => Results.Problem(statusCode: 409, title: "Conflict", detail: why);

    /// <summary>
    /// Reads the request body as a JSON document; a body that is not JSON yields a 400 naming <c>body</c>.
    /// </summary>
    public static async Task<(System.Text.Json.JsonElement Document, IResult? Problem)> ReadJson(HttpRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            return (await System.Text.Json.JsonSerializer.DeserializeAsync<System.Text.Json.JsonElement>(request.Body, cancellationToken: ct), null);
        }
        catch (System.Text.Json.JsonException ex)
        {
            return (default, Field("body", "is not valid JSON: " + ex.Message.Split(" Path:")[0]));
        }
    }

    /// <summary>400 for one field.</summary>
    public static IResult Field(string field, string message)
    {
        var v = new Validation();
        v.Add(field, message);
        return v.Problem();
    }
}
