using Herald.Core.Model;

namespace Herald.Cluster.Directory;

/// <summary>The organization directory: people and teams. Durable.</summary>
public interface IDirectoryStore
{
    /// <summary>One person, or null.</summary>
    Task<PersonProfile?> GetPerson(string id, CancellationToken ct = default);

    /// <summary>The people among <paramref name="ids"/> that exist, in no particular order.</summary>
    Task<IReadOnlyList<PersonProfile>> GetPeople(IReadOnlyCollection<string> ids, CancellationToken ct = default);

    /// <summary>
    /// People whose id, display name or e-mail contains <paramref name="query"/> (case-insensitive), optionally
    /// only those of <paramref name="team"/>; ordered by display name, at most <paramref name="limit"/>.
    /// </summary>
    Task<IReadOnlyList<PersonProfile>> SearchPeople(string? query, string? team, int limit, CancellationToken ct = default);

    /// <summary>Creates or replaces a person; returns true when created.</summary>
    Task<bool> UpsertPerson(PersonProfile person, CancellationToken ct = default);

    /// <summary>Creates or replaces many people in one transaction; returns how many were created.</summary>
    Task<int> UpsertPeople(IReadOnlyList<PersonProfile> people, CancellationToken ct = default);

    /// <summary>Deletes a person; false when there was none.</summary>
    Task<bool> DeletePerson(string id, CancellationToken ct = default);

    /// <summary>Number of people.</summary>
    Task<int> CountPeople(CancellationToken ct = default);

    /// <summary>One team, or null.</summary>
    Task<Team?> GetTeam(string id, CancellationToken ct = default);

    /// <summary>All teams ordered by name.</summary>
    Task<IReadOnlyList<Team>> ListTeams(CancellationToken ct = default);

    /// <summary>Creates or replaces a team; returns true when created.</summary>
    Task<bool> UpsertTeam(Team team, CancellationToken ct = default);

    /// <summary>Creates or replaces many teams in one transaction; returns how many were created.</summary>
    Task<int> UpsertTeams(IReadOnlyList<Team> teams, CancellationToken ct = default);

    /// <summary>Deletes a team; false when there was none.</summary>
    Task<bool> DeleteTeam(string id, CancellationToken ct = default);
}

/// <summary>A salted, iterated password hash: PBKDF2-HMAC-SHA256, which is also SCRAM-SHA-256's SaltedPassword.</summary>
/// <param name="Iterations">PBKDF2 iteration count.</param>
/// <param name="Salt">Random salt (16 bytes or more).</param>
/// <param name="Hash">PBKDF2-HMAC-SHA256(password, salt, iterations), 32 bytes.</param>
public sealed record PasswordCredential(int Iterations, byte[] Salt, byte[] Hash);

/// <summary>Roles an account can hold.</summary>
public static class Roles
{
    /// <summary>An ordinary person.</summary>
    public const string User = "user";
    /// <summary>Manages the directory, policy and integrations.</summary>
    public const string Admin = "admin";
    /// <summary>Reads audit logs.</summary>
    public const string Auditor = "auditor";

    /// <summary>Every role.</summary>
    public static IReadOnlyList<string> All { get; } = [User, Admin, Auditor];
}

/// <summary>
/// SCRAM verifier keys (RFC 5802) for one hash function: what a server needs to check a SCRAM exchange, never the
/// password. <c>StoredKey = H(HMAC(SaltedPassword, "Client Key"))</c>, <c>ServerKey = HMAC(SaltedPassword, "Server Key")</c>.
/// </summary>
/// <param name="Iterations">PBKDF2 iteration count.</param>
/// <param name="Salt">Random salt.</param>
/// <param name="StoredKey">H(ClientKey).</param>
/// <param name="ServerKey">HMAC(SaltedPassword, "Server Key").</param>
public sealed record ScramCredential(int Iterations, byte[] Salt, byte[] StoredKey, byte[] ServerKey);

/// <summary>A login account. Its id is the person id (or "admin" for the bootstrap administrator).</summary>
public sealed record Account(string UserId, IReadOnlyList<string> Roles, PasswordCredential? Password)
{
    /// <summary>
    /// SCRAM-SHA-1 keys, derived when the password is set (XMPP clients that only speak SCRAM-SHA-1). Optional:
    /// accounts whose password was set before these existed get them at their next successful password login.
    /// SCRAM-SHA-256 needs nothing extra: <see cref="PasswordCredential.Hash"/> is its SaltedPassword.
    /// </summary>
    public ScramCredential? ScramSha1 { get; init; }
}

/// <summary>Login accounts. Durable.</summary>
public interface IAccountStore
{
    /// <summary>The account, or null.</summary>
    Task<Account?> GetAccount(string userId, CancellationToken ct = default);

    /// <summary>Creates or replaces an account.</summary>
    Task UpsertAccount(Account account, CancellationToken ct = default);

    /// <summary>
    /// Creates <paramref name="account"/> only when the store holds no account at all, atomically (of several nodes
    /// starting at once against one store, exactly one creates it); true when this call created it.
    /// </summary>
    Task<bool> CreateFirstAccount(Account account, CancellationToken ct = default);

    /// <summary>Deletes an account; false when there was none.</summary>
    Task<bool> DeleteAccount(string userId, CancellationToken ct = default);

    /// <summary>Number of accounts.</summary>
    Task<int> CountAccounts(CancellationToken ct = default);
}

/// <summary>A stored API key: only a hash of its secret is kept.</summary>
/// <param name="Id">Public id (part of the key).</param>
/// <param name="OwnerId">The account that created it.</param>
/// <param name="Name">A label.</param>
/// <param name="Scopes">Scopes such as <c>devices</c>, <c>activities:InACall</c>, <c>activities:*</c>, <c>route</c>.</param>
/// <param name="UserIds">The people it may act for; null = the owner only (user keys) or everyone (admin keys).</param>
/// <param name="SecretHash">SHA-256 of the secret part.</param>
/// <param name="CreatedAt">Creation time.</param>
public sealed record ApiKeyRecord(
    string Id, string OwnerId, string Name, IReadOnlyList<string> Scopes, IReadOnlyList<string>? UserIds,
    byte[] SecretHash, DateTimeOffset CreatedAt);

/// <summary>API keys. Durable.</summary>
public interface IApiKeyStore
{
    /// <summary>Stores a new key.</summary>
    Task Create(ApiKeyRecord key, CancellationToken ct = default);

    /// <summary>One key by id, or null.</summary>
    Task<ApiKeyRecord?> Get(string id, CancellationToken ct = default);

    /// <summary>Keys of one owner, newest first; all keys when <paramref name="ownerId"/> is null.</summary>
    Task<IReadOnlyList<ApiKeyRecord>> List(string? ownerId, CancellationToken ct = default);

    /// <summary>Deletes a key; false when there was none.</summary>
    Task<bool> Delete(string id, CancellationToken ct = default);
}
