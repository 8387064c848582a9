namespace CryptoPay.Grains.Hosting;

/// <summary>
/// The roles a silo plays (setting <c>Silo:Roles</c>; empty means all). On Orleans every silo serves the API and
/// hosts grains and reminders wherever Orleans places them, so only <see cref="Watchers"/> changes what a silo does:
/// without it the silo does not poll chains. <see cref="Api"/> and <see cref="Reminders"/> are still accepted so
/// that configurations written for the retired runtime keep starting.
/// </summary>
public sealed class SiloRoles
{
    public const string Section = "Silo";

    public const string Api = "api";
    public const string Reminders = "reminders";
    public const string Watchers = "watchers";

    public static readonly IReadOnlyList<string> Known = [Api, Reminders, Watchers];

    /// <summary>The configured roles; empty means all of them (empty by default so configuration replaces, not extends, it).</summary>
    public List<string> Roles { get; set; } = [];

    public IReadOnlyList<string> Effective => Roles.Count == 0 ? Known : Roles;

    public bool Has(string role) => Effective.Contains(role, StringComparer.Ordinal);

    /// <summary>Throws with one line naming the bad role.</summary>
    public void Validate()
    {
        var unknown = Roles.Where(r => !Known.Contains(r, StringComparer.Ordinal)).ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidOperationException(
                $"Invalid silo configuration: unknown silo role '{unknown[0]}' in Silo:Roles; known roles: {string.Join(", ", Known)}.");
        }
    }
}
