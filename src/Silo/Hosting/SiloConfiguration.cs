using CryptoPay.Grains.Hosting;

namespace CryptoPay.Silo.Hosting;

/// <summary>
/// Reads the "Silo" configuration section: only <c>Silo:Roles</c> is left (see <see cref="SiloRoles"/>). The other
/// keys belonged to the retired grain runtime (leases, poll intervals, heartbeats); one still set stops start-up
/// with a line saying where Orleans takes that job, rather than being silently ignored.
/// </summary>
internal static class SiloConfiguration
{
    /// <summary>Binds and validates the section now, so a bad setting stops the process before anything starts.</summary>
    public static SiloRoles Read(IConfiguration configuration)
    {
        var section = configuration.GetSection(SiloRoles.Section);
        var retired = section.GetChildren()
            .Select(c => c.Key)
            .FirstOrDefault(k => !string.Equals(k, nameof(SiloRoles.Roles), StringComparison.OrdinalIgnoreCase));
        if (retired is not null)
        {
            throw new SiloStartupException(
                $"{SiloRoles.Section}:{retired} was a setting of the retired grain runtime and does nothing on Orleans; remove it " +
                $"(membership and failure detection are tuned under {OrleansSettings.Section}:Membership, see docs/ORLEANS.md).");
        }

        var roles = new SiloRoles();
        section.Bind(roles);
        roles.Validate();
        return roles;
    }
}
