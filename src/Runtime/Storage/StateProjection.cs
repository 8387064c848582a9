using System.Text.RegularExpressions;

namespace CryptoPay.Runtime.Storage;

public enum ProjectionColumnType
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

public sealed record ProjectionColumn(string Name, ProjectionColumnType Type);

/// <summary>
/// Maps a grain type's state to a table of its own with typed columns (key column <c>grain_key</c>),
/// written in the same transaction as the state, so list queries can be served by indexed SQL
/// instead of loading grains. The owning project creates the table in a migration of its own.
/// </summary>
public abstract partial class StateProjection
{
    protected StateProjection(string table)
    {
        if (!IdentifierPattern().IsMatch(table))
        {
            throw new ArgumentException($"Projection table name '{table}' must be a plain lower-case SQL identifier.", nameof(table));
        }

        Table = table;
    }

    public string Table { get; }

    public abstract IReadOnlyList<ProjectionColumn> Columns { get; }

    internal abstract object?[] Project(object state);

    internal static void EnsureIdentifier(string name)
    {
        if (!IdentifierPattern().IsMatch(name))
        {
            throw new ArgumentException($"Column name '{name}' must be a plain lower-case SQL identifier.", nameof(name));
        }
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex IdentifierPattern();
}

public sealed class StateProjection<TState>(string table) : StateProjection(table) where TState : class
{
    private readonly List<ProjectionColumn> columns = [];
    private readonly List<Func<TState, object?>> selectors = [];

    public override IReadOnlyList<ProjectionColumn> Columns => columns;

    public StateProjection<TState> Column<TValue>(string name, ProjectionColumnType type, Func<TState, TValue> selector)
    {
        EnsureIdentifier(name);
        if (name == "grain_key" || columns.Exists(c => c.Name == name))
        {
            throw new ArgumentException($"Projection '{Table}' already has a column '{name}'.", nameof(name));
        }

        columns.Add(new ProjectionColumn(name, type));
        selectors.Add(s => selector(s));
        return this;
    }

    internal override object?[] Project(object state)
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
