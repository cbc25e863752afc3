using System.Security.Cryptography;
using Herald.Cluster.Directory;
using Microsoft.Extensions.Options;

namespace Herald.Server.Hosting;

/// <summary>
/// On the first start with an empty account store, creates the <c>admin</c> account with the configured password
/// (<c>Herald:Bootstrap:AdminPassword</c>) or a generated one, printed once — by the one node that created it when
/// several start at once against one store (<see cref="IAccountStore.CreateFirstAccount"/> decides atomically).
/// </summary>
public sealed partial class BootstrapAdmin(IAccountStore accounts, IOptions<HeraldOptions> options, ILogger<BootstrapAdmin> logger) : IHostedService
{
    /// <summary>The bootstrap administrator's user id.</summary>
    public const string AdminId = "admin";

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (await accounts.CountAccounts(cancellationToken) > 0)
        {
            return;
        }
        var configured = options.Value.Bootstrap.AdminPassword;
        var password = string.IsNullOrEmpty(configured) ? RandomNumberGenerator.GetString("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", 20) : configured;
        // Atomic across nodes: of several nodes starting at once against one store, exactly one creates the account
        // (and prints its generated password); the others find it created and leave it alone.
        var created = await accounts.CreateFirstAccount(new Account(AdminId, [Roles.Admin, Roles.User],
            PasswordHasher.Hash(password, options.Value.Auth.PasswordIterations)).WithScram(password), cancellationToken);
        if (!created)
        {
            LogCreatedElsewhere(AdminId);
            return;
        }
        if (string.IsNullOrEmpty(configured))
        {
            // Printed once, on purpose, to the console only: there is no other way to learn it.
            Console.WriteLine($"Herald: created account 'admin' with generated password: {password}");
        }
        LogCreated(AdminId);
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Created bootstrap account {UserId}")]
    private partial void LogCreated(string userId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Bootstrap account {UserId} not created: another node created the first account at the same time")]
    private partial void LogCreatedElsewhere(string userId);
}
