using System.Text.Json;
using Herald.Cluster.Directory;

namespace Herald.Cluster.Redis;

/// <summary>
/// An <see cref="IAccountStore"/> in Redis: hash <c>accounts</c>, user id → the whole <see cref="Account"/> as JSON,
/// so fields added to the record later are stored and read back without a change here. Every write tells the other
/// nodes to drop their cached credentials of that account.
/// </summary>
public sealed class RedisAccountStore(HeraldRedis redis) : IAccountStore
{
    private readonly HeraldRedis _redis = redis ?? throw new ArgumentNullException(nameof(redis));

    private StackExchange.Redis.RedisKey Accounts => _redis.Key("accounts");

    /// <inheritdoc />
    public async Task<Account?> GetAccount(string userId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(userId);
        ct.ThrowIfCancellationRequested();
        var json = await _redis.Db.HashGetAsync(Accounts, userId);
        if (json.IsNull)
        {
            return null;
        }
        var account = JsonSerializer.Deserialize<Account>((string)json!, HeraldRedis.Json)
            ?? throw new InvalidDataException($"The stored account '{userId}' is null.");
        return account.Roles is null ? account with { Roles = [] } : account;
    }

    /// <inheritdoc />
    public async Task UpsertAccount(Account account, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentException.ThrowIfNullOrEmpty(account.UserId, nameof(account));
        foreach (var role in account.Roles ?? [])
        {
            ArgumentException.ThrowIfNullOrEmpty(role, nameof(account));
            if (role.Contains(',', StringComparison.Ordinal))
            {
                throw new ArgumentException($"Role '{role}' must not contain a comma.", nameof(account));
            }
        }
        if (account.Password is { } credential)
        {
            ArgumentNullException.ThrowIfNull(credential.Salt, nameof(account));
            ArgumentNullException.ThrowIfNull(credential.Hash, nameof(account));
        }
        ct.ThrowIfCancellationRequested();
        var stored = account with { Roles = account.Roles ?? [] };
        await _redis.Db.HashSetAsync(Accounts, account.UserId, JsonSerializer.Serialize(stored, HeraldRedis.Json));
        await _redis.Invalidate("account:" + account.UserId);
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAccount(string userId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(userId);
        ct.ThrowIfCancellationRequested();
        var deleted = await _redis.Db.HashDeleteAsync(Accounts, userId);
        await _redis.Invalidate("account:" + userId);
        return deleted;
    }

    /// <inheritdoc />
    public async Task<int> CountAccounts(CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        return (int)await _redis.Db.HashLengthAsync(Accounts);
    }
}
