using System.Text.RegularExpressions;

namespace CryptoPay.Grains.Storage;

public enum ColumnType
{
    Text,
    Integer,
    BigInt,
    Numeric,
    Boolean,
    Uuid,
    TimestampTz,
    Jsonb,
}

public sealed record ProjectedColumn(string Name, ColumnType Type);

/// <summary>The SQL type of a projection table's <c>state</c> column.</summary>
public enum StateColumnType
{
    /// <summary>PostgreSQL parses and re-encodes every written state; queries look into it cheaply.</summary>
    Jsonb,

    /// <summary>
    /// Stored as the text written (checked only): for a grain type written far more than its state is queried, since
    /// parsing a state of a few KB into jsonb was a fifth of PostgreSQL's CPU per invoice creation.
    /// </summary>
    Json,
}

/// <summary>
/// Where the state of one grain type lives in <see cref="ProjectedGrainStorage"/>: a table of its own, keyed by the
/// grain's key (<c>grain_key</c>), holding the state (<c>state</c>, jsonb), its version (<c>version</c>, the ETag)
/// and typed columns computed from the state. State and columns are written by one statement, so a list query over
/// the columns never sees a state that was not written, nor misses one that was. The table is created by a migration.
/// </summary>
public abstract partial class TableProjection
{
    protected TableProjection(string stateName, string table)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(stateName);
        EnsureIdentifier(table);
        StateName = stateName;
        Table = table;
    }

    /// <summary>The <c>[PersistentState]</c> name the grain type uses; one state name per grain type.</summary>
    public string StateName { get; }

    public string Table { get; }

    public abstract Type StateType { get; }

    /// <summary>The SQL type of the <c>state</c> column (the table's migration creates it so).</summary>
    public StateColumnType StateColumn { get; protected set; } = StateColumnType.Jsonb;

    public abstract IReadOnlyList<ProjectedColumn> Columns { get; }

    /// <summary>
    /// The table recording which stored states still hold effects not known delivered (<see cref="IPendingEffectsRecord"/>),
    /// keyed like the projection's own (<c>grain_key</c> text primary key, <c>version</c> bigint, <c>retry_at</c>
    /// timestamptz); null when the projection keeps none.
    /// </summary>
    public string? PendingEffectsTable { get; protected set; }

    public abstract object?[] Project(object state);

    internal static void EnsureIdentifier(string name)
    {
        if (!IdentifierPattern().IsMatch(name) || name is "grain_key" or "version" or "state")
        {
            throw new ArgumentException($"'{name}' must be a plain lower-case SQL identifier other than grain_key, version and state.", nameof(name));
        }
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex IdentifierPattern();
}

public sealed class TableProjection<TState>(string stateName, string table) : TableProjection(stateName, table)
    where TState : class
{
    private readonly List<ProjectedColumn> columns = [];
    private readonly List<Func<TState, object?>> selectors = [];

    public override Type StateType => typeof(TState);

    public override IReadOnlyList<ProjectedColumn> Columns => columns;

    /// <summary>Declares the table's <c>state</c> column <c>json</c>, not <c>jsonb</c> (<see cref="StateColumnType.Json"/>).</summary>
    public TableProjection<TState> StateAsJson()
    {
        StateColumn = StateColumnType.Json;
        return this;
    }

    /// <summary>
    /// Keeps the pending effects of the states in <paramref name="table"/> (<see cref="PendingEffectsTable"/>): for a grain
    /// type whose effects are delivered right after its writes, so the write that would only record their delivery is a
    /// small row deleted instead of the state written again.
    /// </summary>
    public TableProjection<TState> PendingEffectsIn(string table)
    {
        EnsureIdentifier(table);
        if (!typeof(IPendingEffectsRecord).IsAssignableFrom(typeof(TState)))
        {
            throw new ArgumentException($"{typeof(TState).Name} is not an {nameof(IPendingEffectsRecord)}: it has no pending effects to track.", nameof(table));
        }

        PendingEffectsTable = table;
        return this;
    }

    public TableProjection<TState> Column<TValue>(string name, ColumnType type, Func<TState, TValue> selector)
    {
        EnsureIdentifier(name);
        if (columns.Exists(c => c.Name == name))
        {
            throw new ArgumentException($"Projection '{Table}' already has a column '{name}'.", nameof(name));
        }

        columns.Add(new ProjectedColumn(name, type));
        selectors.Add(s => selector(s));
        return this;
    }

    public override object?[] Project(object state)
    {
        var typed = (TState)state;
        var values = new object?[selectors.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = selectors[i](typed);
        }

        return values;
    }
}
