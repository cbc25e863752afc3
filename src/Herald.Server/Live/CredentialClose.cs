using Herald.Cluster.Directory;

namespace Herald.Server.Live;

/// <summary>
/// How a live channel tells its client that the credential it was opened with ended (docs/api.md, "When a credential
/// ends"): the same code and reason on every channel — a WebSocket close status, the <c>closed</c> message of SignalR and
/// the live WebSocket, the final <c>closed</c> event of SSE.
/// </summary>
public static class CredentialClose
{
    /// <summary>The bearer token expired: get a fresh token and reconnect.</summary>
    public const int TokenExpired = 4401;

    /// <summary>The credential was revoked (API key revoked, account deleted, password changed): reconnecting with it fails.</summary>
    public const int Revoked = 4403;

    /// <summary>The close code of <paramref name="reason"/>.</summary>
    public static int Code(CredentialEnd reason) => reason == CredentialEnd.TokenExpired ? TokenExpired : Revoked;

    /// <summary>The close reason text of <paramref name="reason"/> (short: WebSocket close reasons are limited to 123 bytes).</summary>
    public static string Reason(CredentialEnd reason) => reason switch
    {
        CredentialEnd.TokenExpired => "token expired",
        CredentialEnd.KeyRevoked => "api key revoked",
        CredentialEnd.AccountDeleted => "account deleted",
        CredentialEnd.PasswordChanged => "password changed",
        _ => "credential no longer valid",
    };

    /// <summary>The payload of the <c>closed</c> message or event.</summary>
    public static ClosedMessage Message(CredentialEnd reason) => new(Code(reason), Reason(reason));
}

/// <summary>The <c>closed</c> message: why the server is closing the connection.</summary>
/// <param name="Code">4401 (token expired) or 4403 (credential revoked).</param>
/// <param name="Reason">Human-readable reason.</param>
public sealed record ClosedMessage(int Code, string Reason);
