using System.ComponentModel.DataAnnotations;
using Herald.Cluster.Hosting;

namespace Herald.Server.Hosting;

/// <summary>Server settings (configuration section <c>Herald</c>).</summary>
public sealed class HeraldOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Herald";

    /// <summary>Where the embedded store lives (relative paths are under the working directory).</summary>
    [Required]
    public string DataDirectory { get; set; } = "herald-data";

    /// <summary>Seed the demo organization and run the simulator (the <c>--demo</c> switch).</summary>
    public bool Demo { get; set; }

    /// <summary>First-start administrator.</summary>
    public BootstrapOptions Bootstrap { get; set; } = new();

    /// <summary>Authentication settings.</summary>
    public AuthOptions Auth { get; set; } = new();

    /// <summary>Request limits.</summary>
    public LimitOptions Limits { get; set; } = new();

    /// <summary>Rate limits.</summary>
    public RateLimitOptions RateLimits { get; set; } = new();

    /// <summary>Cluster settings.</summary>
    public ClusterOptions Cluster { get; set; } = new();
}

/// <summary>First-start administrator.</summary>
public sealed class BootstrapOptions
{
    /// <summary>Password of the <c>admin</c> account created on first start; generated and printed once when empty.</summary>
    public string? AdminPassword { get; set; }
}

/// <summary>Authentication settings.</summary>
public sealed class AuthOptions
{
    /// <summary>Lifetime of a bearer token.</summary>
    [TimeSpanRange("00:01:00", "30.00:00:00")]
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(12);

    /// <summary>PBKDF2-SHA256 iterations for new password hashes.</summary>
    [Range(4096, 10_000_000)]
    public int PasswordIterations { get; set; } = 100_000;

    /// <summary>
    /// How often every open live connection's credential is re-read from the stores (account of each connected person,
    /// each connected API key): the longest a connection outlives a revocation made on another node when the cluster's
    /// invalidation message was lost. <c>00:00:00</c> disables the sweep (revocations through this node, and invalidation
    /// messages, still end connections at once; token expiry is never late). See docs/operations.md.
    /// </summary>
    [TimeSpanRange("00:00:00", "1.00:00:00")]
    public TimeSpan LiveRecheckInterval { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Documented request limits.</summary>
public sealed class LimitOptions
{
    /// <summary>Most people in one batch presence query.</summary>
    [Range(1, 100_000)]
    public int MaxBatch { get; set; } = 1000;

    /// <summary>Most people one live connection (SignalR or SSE) may watch.</summary>
    [Range(1, 100_000)]
    public int MaxWatch { get; set; } = 1000;

    /// <summary>Longest status note, in characters.</summary>
    [Range(1, 10_000)]
    public int MaxNoteLength { get; set; } = 280;

    /// <summary>Largest JSON request body, in bytes.</summary>
    [Range(1024, 100_000_000)]
    public long MaxBodyBytes { get; set; } = 1_048_576;

    /// <summary>Largest import (CSV or JSON), in bytes.</summary>
    [Range(1024, 1_000_000_000)]
    public long MaxImportBytes { get; set; } = 10_485_760;

    /// <summary>Most rows in one import.</summary>
    [Range(1, 1_000_000)]
    public int MaxImportRows { get; set; } = 50_000;

    /// <summary>Most results of a people search.</summary>
    [Range(1, 10_000)]
    public int MaxSearchResults { get; set; } = 200;
}

/// <summary>Per-principal rate limits (token buckets).</summary>
public sealed class RateLimitOptions
{
    /// <summary>Requests per second per user or API key.</summary>
    [Range(1, 1_000_000)]
    public int PerPrincipalPerSecond { get; set; } = 50;

    /// <summary>Burst size per user or API key.</summary>
    [Range(1, 1_000_000)]
    public int PerPrincipalBurst { get; set; } = 200;

    /// <summary>Login attempts per minute per client address.</summary>
    [Range(1, 1_000_000)]
    public int LoginsPerMinute { get; set; } = 30;
}

/// <summary>Cluster settings (<c>Herald:Cluster</c>); see docs/operations.md.</summary>
public sealed class ClusterOptions
{
    /// <summary><c>Embedded</c> (default: one process, SQLite in the data directory) or <c>Redis</c> (several nodes sharing one Redis).</summary>
    [Required]
    [RegularExpression("^(?i)(Embedded|Redis)$", ErrorMessage = "Herald:Cluster:Mode must be Embedded or Redis.")]
    public string Mode { get; set; } = "Embedded";

    /// <summary>Redis connection string (StackExchange.Redis syntax, e.g. <c>10.0.0.5:6379,password=…</c>); required in Redis mode.</summary>
    public string? Redis { get; set; }

    /// <summary>Silo-to-silo port; 0 picks a free one (fine for embedded mode; give cluster nodes a fixed, firewalled port).</summary>
    [Range(0, 65535)]
    public int SiloPort { get; set; }

    /// <summary>Orleans client gateway port; 0 disables the gateway (Herald has no external Orleans clients).</summary>
    [Range(0, 65535)]
    public int GatewayPort { get; set; }

    /// <summary>Cluster id: nodes with the same id and Redis form one cluster; it also scopes Herald's Redis keys.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9_.-]{1,64}$", ErrorMessage = "Herald:Cluster:ClusterId must be 1-64 letters, digits, '_', '.' or '-'.")]
    public string ClusterId { get; set; } = "herald";

    /// <summary>The IP address the other nodes reach this node's silo port at (Redis mode); default 127.0.0.1 (all nodes on one host).</summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>Membership probe timeout (Redis mode); a node that misses <see cref="MissedProbesLimit"/> probes is declared dead.</summary>
    [TimeSpanRange("00:00:00.500", "00:01:00")]
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Missed probes after which a node is suspected (Redis mode).</summary>
    [Range(1, 10)]
    public int MissedProbesLimit { get; set; } = 3;

    /// <summary>On graceful shutdown, how long the node waits for its live connections to reconnect elsewhere.</summary>
    [TimeSpanRange("00:00:00", "00:05:00")]
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
