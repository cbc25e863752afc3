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

    /// <summary>HSET only while the hash is empty, in one script (atomic in Redis).</summary>
    private const string CreateFirstScript = """
        if redis.call('HLEN', KEYS[1]) == 0 then
          redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
          return 1
        end
        return 0
        """;

    /// <inheritdoc />
    public async Task<bool> CreateFirstAccount(Account account, CancellationToken ct = default)
    {
        var stored = Validate(account);
        ct.ThrowIfCancellationRequested();
        var created = (long)await _redis.Db.ScriptEvaluateAsync(CreateFirstScript, [Accounts],
            [account.UserId, JsonSerializer.Serialize(stored, HeraldRedis.Json)]) == 1;
        if (created)
        {
            await _redis.Invalidate("account:" + account.UserId);
        }
        return created;
    }

    /// <inheritdoc />
    public async Task UpsertAccount(Account account, CancellationToken ct = default)
    {
        var stored = Validate(account);
        ct.ThrowIfCancellationRequested();
        await _redis.Db.HashSetAsync(Accounts, account.UserId, JsonSerializer.Serialize(stored, HeraldRedis.Json));
        await _redis.Invalidate("account:" + account.UserId);
    }

    private static Account Validate(Account account)
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
        return account with { Roles = account.Roles ?? [] };
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
