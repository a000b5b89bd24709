namespace Hotline.Server.Tests.Faults;

/// <summary>
/// The fault and security tests each start real servers (and their own PostgreSQL or Redis where they break them):
/// they run one after another, so a kill -9 or an outage never competes with another heavy test for the CPU.
/// </summary>
[CollectionDefinition(Name)]
public sealed class FaultsCollection
{
    public const string Name = "faults";
}
