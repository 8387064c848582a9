using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;

namespace CryptoPay.Chains.Payouts;

/// <summary>
/// One withdrawal as a settlement batch commits to it (docs/PROOFS.md). Its <see cref="CanonicalBytes"/> are what a
/// merchant rehashes from a proof, so every field is exactly the stored value and none may contain the separators.
/// </summary>
/// <param name="Network">The network id: ltc, btc, eth, bsc or tron.</param>
/// <param name="Asset">The asset label, e.g. LTC or USDT-ETH.</param>
/// <param name="Address">The destination exactly as stored (no case folding).</param>
/// <param name="AmountUnits">The amount paid, in the asset's smallest unit; positive.</param>
/// <param name="PaymentIds">The payments this withdrawal settles, in the order committed; may be empty.</param>
public sealed record PayoutEntry(Guid WithdrawalId, string Network, string Asset, string Address, BigInteger AmountUnits, IReadOnlyList<string> PaymentIds)
{
    /// <summary>The first line of every entry; a new layout gets a new version rather than a reinterpretation.</summary>
    public const string Version = "cryptopay-payout-v1";

    private static readonly string[] Networks = ["ltc", "btc", "eth", "bsc", "tron"];

    /// <summary>The id as the tree sorts and hashes it: lower-case "D" format.</summary>
    public string WithdrawalIdText => WithdrawalId.ToString("D", CultureInfo.InvariantCulture);

    /// <summary>UTF-8 of the version, id, network, asset, address, amount and comma-joined payment ids, joined by "\n".</summary>
    /// <exception cref="ArgumentException">A field is empty, or contains a separator that would make two entries hash alike.</exception>
    public byte[] CanonicalBytes()
    {
        if (!Networks.Contains(Network, StringComparer.Ordinal))
        {
            throw new ArgumentException($"Network '{Network}' is not one of {string.Join(", ", Networks)}.", nameof(Network));
        }

        RequireLine(Asset, nameof(Asset));
        RequireLine(Address, nameof(Address));
        if (AmountUnits.Sign <= 0)
        {
            throw new ArgumentException($"A payout pays a positive amount, not {AmountUnits}.", nameof(AmountUnits));
        }

        ArgumentNullException.ThrowIfNull(PaymentIds);
        foreach (var paymentId in PaymentIds)
        {
            RequireLine(paymentId, nameof(PaymentIds));
            if (paymentId.Contains(',', StringComparison.Ordinal))
            {
                throw new ArgumentException($"Payment id '{paymentId}' contains ',', the separator of payment ids.", nameof(PaymentIds));
            }
        }

        string[] lines =
        [
            Version,
            WithdrawalIdText,
            Network,
            Asset,
            Address,
            AmountUnits.ToString(CultureInfo.InvariantCulture),
            string.Join(',', PaymentIds),
        ];
        return Encoding.UTF8.GetBytes(string.Join('\n', lines));
    }

    private static void RequireLine(string? value, string field)
    {
        if (string.IsNullOrEmpty(value) || value.Contains('\n', StringComparison.Ordinal))
        {
            throw new ArgumentException($"{field} must be non-empty and on one line, not '{value}'.", field);
        }
    }
}

/// <summary>Which side of the path the sibling hash goes on when folding a branch up to the root.</summary>
public enum MerkleSide
{
    Left,
    Right,
}

/// <summary>One level of a branch: the sibling's side and its 32-byte hash. Serialized in proofs as "left"/"right" and lower-case hex.</summary>
public sealed record MerkleStep(MerkleSide Side, byte[] Hash)
{
    public string SideName => Side == MerkleSide.Left ? "left" : "right";
}

/// <summary>
/// The Merkle tree a settlement batch commits on chain (docs/PROOFS.md): leaves SHA-256(0x00 ‖ entry) ordered by
/// withdrawal id, inner nodes SHA-256(0x01 ‖ left ‖ right), an odd last node carried up unchanged. The two prefixes
/// keep a leaf from ever being read as an inner node.
/// </summary>
public sealed class PayoutMerkleTree
{
    public const int HashSize = 32;

    /// <summary>"CPAY" ‖ version 0x01 ‖ root: what the OP_RETURN output (or the EVM commitment transaction) carries.</summary>
    public const int CommitmentSize = 37;

    private const byte LeafPrefix = 0x00;
    private const byte NodePrefix = 0x01;
    private const byte CommitmentVersion = 0x01;
    private static readonly byte[] CommitmentMagic = "CPAY"u8.ToArray();

    // Levels[0] are the leaves, the last level holds only the root.
    private readonly byte[][][] _levels;
    private readonly Dictionary<Guid, int> _indexById;

    private PayoutMerkleTree(IReadOnlyList<PayoutEntry> entries, byte[][][] levels)
    {
        Entries = entries;
        _levels = levels;
        _indexById = entries.Select((entry, index) => (entry.WithdrawalId, index)).ToDictionary(p => p.WithdrawalId, p => p.index);
    }

    /// <summary>The entries in leaf order (ordinal order of their lower-case withdrawal ids).</summary>
    public IReadOnlyList<PayoutEntry> Entries { get; }

    /// <exception cref="ArgumentException">No entries, two entries for one withdrawal, or an entry that has no canonical bytes.</exception>
    public static PayoutMerkleTree Build(IEnumerable<PayoutEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        PayoutEntry[] ordered = [.. entries.OrderBy(e => e.WithdrawalIdText, StringComparer.Ordinal)];
        if (ordered.Length == 0)
        {
            throw new ArgumentException("A settlement batch commits at least one entry.", nameof(entries));
        }

        var duplicate = ordered.Zip(ordered.Skip(1)).FirstOrDefault(pair => pair.First.WithdrawalId == pair.Second.WithdrawalId).First;
        if (duplicate is not null)
        {
            throw new ArgumentException($"Withdrawal {duplicate.WithdrawalIdText} appears twice in one batch.", nameof(entries));
        }

        var levels = new List<byte[][]> { ordered.Select(Leaf).ToArray() };
        while (levels[^1].Length > 1)
        {
            var below = levels[^1];
            var above = new byte[(below.Length + 1) / 2][];
            for (var i = 0; i < above.Length; i++)
            {
                above[i] = 2 * i + 1 < below.Length ? Node(below[2 * i], below[2 * i + 1]) : below[2 * i];
            }

            levels.Add(above);
        }

        return new PayoutMerkleTree(ordered, [.. levels]);
    }

    public byte[] Root() => (byte[])_levels[^1][0].Clone();

    public byte[] LeafOf(Guid withdrawalId) => (byte[])_levels[0][IndexOf(withdrawalId)].Clone();

    /// <summary>The siblings from the leaf level up; levels where the node was carried up unchanged have no step.</summary>
    public IReadOnlyList<MerkleStep> BranchOf(Guid withdrawalId)
    {
        var index = IndexOf(withdrawalId);
        var branch = new List<MerkleStep>();
        foreach (var level in _levels[..^1])
        {
            var sibling = index ^ 1;
            if (sibling < level.Length)
            {
                branch.Add(new MerkleStep(sibling < index ? MerkleSide.Left : MerkleSide.Right, (byte[])level[sibling].Clone()));
            }

            index /= 2;
        }

        return branch;
    }

    /// <summary>SHA-256(0x00 ‖ the entry's canonical bytes).</summary>
    public static byte[] Leaf(PayoutEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return SHA256.HashData([LeafPrefix, .. entry.CanonicalBytes()]);
    }

    /// <summary>Folds <paramref name="branch"/> onto <paramref name="leaf"/> and compares the result with <paramref name="root"/>.</summary>
    public static bool Verify(byte[] leaf, IReadOnlyList<MerkleStep> branch, byte[] root)
    {
        ArgumentNullException.ThrowIfNull(leaf);
        ArgumentNullException.ThrowIfNull(branch);
        ArgumentNullException.ThrowIfNull(root);
        if (leaf.Length != HashSize || root.Length != HashSize || branch.Any(step => step.Hash is not { Length: HashSize }))
        {
            return false;
        }

        var node = leaf;
        foreach (var step in branch)
        {
            node = step.Side == MerkleSide.Left ? Node(step.Hash, node) : Node(node, step.Hash);
        }

        return node.AsSpan().SequenceEqual(root);
    }

    /// <summary>"CPAY" ‖ 0x01 ‖ root, 37 bytes; on UTXO chains the OP_RETURN script is 0x6a 0x25 followed by these.</summary>
    public static byte[] Commitment(byte[] root)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (root.Length != HashSize)
        {
            throw new ArgumentException($"A Merkle root is {HashSize} bytes, not {root.Length}.", nameof(root));
        }

        return [.. CommitmentMagic, CommitmentVersion, .. root];
    }

    /// <summary>The root inside a commitment.</summary>
    /// <exception cref="FormatException">Not 37 bytes starting with "CPAY" and version 0x01.</exception>
    public static byte[] ParseCommitment(ReadOnlySpan<byte> commitment)
    {
        if (commitment.Length != CommitmentSize || !commitment[..4].SequenceEqual(CommitmentMagic) || commitment[4] != CommitmentVersion)
        {
            throw new FormatException($"Not a CryptoPay payout commitment (\"CPAY\", 0x01, 32-byte root): {Convert.ToHexStringLower(commitment)}.");
        }

        return commitment[5..].ToArray();
    }

    private static byte[] Node(byte[] left, byte[] right) => SHA256.HashData([NodePrefix, .. left, .. right]);

    private int IndexOf(Guid withdrawalId) =>
        _indexById.TryGetValue(withdrawalId, out var index)
            ? index
            : throw new KeyNotFoundException($"Withdrawal {withdrawalId:D} is not in this batch.");
}
