using System.Numerics;
using System.Text;
using CryptoPay.Chains.Payouts;

namespace CryptoPay.Chains.Tests.Payouts;

/// <summary>
/// The expected hashes were computed outside this code, with Python's hashlib from the spec in docs/PROOFS.md
/// (leaf = sha256(b"\0" + "\n".join(lines).encode()), node = sha256(b"\1" + left + right), odd last node carried up).
/// </summary>
public sealed class PayoutMerkleTreeTests
{
    // Deliberately unsorted; ids starting 9fff…, a000… and ffff… check ordinal ordering of the "D" strings.
    private static readonly PayoutEntry[] Entries =
    [
        Entry("d2b9a8f0-0c1e-4f6a-9b3d-5e7f8a9b0c1d", "rltc1qw508d6qejxtdg4y5r3zarvary0c5xw7kgmn4n9", 1_500_000, "pay_1"),
        Entry("0a4f6e2c-8b1d-4c3e-a5f7-19b2c4d6e8f0", "mzBc4XEFSdzCDcTxAgf6EZXgsZWpztRhef", 99_999_999),
        Entry("9f8e7d6c-5b4a-4938-8271-605f4e3d2c1b", "QVk4MvUu7Wb7tZ1wvAeiUvdF7wxhvpyLLK", 1, "pay_2", "pay_3"),
        Entry("a0000000-0000-4000-8000-000000000000", "rltc1qxyz", 123_456_789_012, "p"),
        Entry("5c3d2e1f-0a9b-48c7-b6d5-e4f3a2b1c0d9", "rltc1qcafe", 42),
        Entry("ffffffff-ffff-4fff-bfff-ffffffffffff", "rltc1qlast", 700, "x", "y", "z"),
        Entry("1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b", "rltc1qone", 5000),
        Entry("9fffffff-ffff-4fff-bfff-ffffffffffff", "rltc1qnine", 10, "pay_9"),
    ];

    public static TheoryData<int, string> Leaves => new()
    {
        { 0, "8205573b7268aec69c0f8c1573fde4d516e2c594b48027198b1284dcf99f8623" },
        { 1, "3de43504fa8901799fefb47f189b4c23ba36f6f454002796258634e1ffb43503" },
        { 2, "2ad3171dcdff7e218e0615217b06c1a14e9f07619df9cea5d44b51bc5212c3eb" },
        { 3, "d9d8dc98d1e0dd514732cd0d6b6ae16f9269fe0878fc1b0ffe12700c258eb6f8" },
        { 4, "4f3ee22ab12b162508fb0880c86b6823e273a3c9a4cea7d684aed641d2e47f13" },
        { 5, "b05af89e03b3f8cca1e9cee98aab1225210c4b2c79fbe63c3913118a0c896ff0" },
        { 6, "18030c343deb46902b20a6ee73b8951edf0cba8c7d25771453ede70fd2e35b38" },
        { 7, "095df1dabd91b6cfcd277177289f32029b26d9ce4e56d32963e7fe67f5e58872" },
    };

    /// <summary>Roots of the tree of the first n entries.</summary>
    public static TheoryData<int, string> Roots => new()
    {
        { 1, "8205573b7268aec69c0f8c1573fde4d516e2c594b48027198b1284dcf99f8623" }, // one entry: the root is its leaf
        { 2, "6e1eda5f2770cf44c1a704322c67d3fb269f18909ce7bcc22d82d439e5c2c166" },
        { 3, "9b89d1ba0558eb6f03521e8c3050f733ece6acb883f29e56ebab8c92e87c9c53" },
        { 5, "dbad89b078e903724262618e3607b7dd874f643a9c4c91edfcfb3529d6de7d31" },
        { 8, "f2c73e997f6f0d4cc7e905391f43e9df6a63ed41330513954df643fe662c8a04" },
    };

    [Fact]
    public void Canonical_bytes_are_the_seven_lines_joined_by_newlines()
    {
        Assert.Equal(
            "cryptopay-payout-v1\n9f8e7d6c-5b4a-4938-8271-605f4e3d2c1b\nltc\nLTC\nQVk4MvUu7Wb7tZ1wvAeiUvdF7wxhvpyLLK\n1\npay_2,pay_3",
            Encoding.UTF8.GetString(Entries[2].CanonicalBytes()));
    }

    [Fact]
    public void Without_payment_ids_the_last_line_is_empty()
    {
        Assert.Equal(
            "cryptopay-payout-v1\n0a4f6e2c-8b1d-4c3e-a5f7-19b2c4d6e8f0\nltc\nLTC\nmzBc4XEFSdzCDcTxAgf6EZXgsZWpztRhef\n99999999\n",
            Encoding.UTF8.GetString(Entries[1].CanonicalBytes()));
    }

    [Fact]
    public void A_token_entry_hashes_its_label_and_the_address_exactly_as_stored()
    {
        var entry = new PayoutEntry(
            Guid.Parse("3F2504E0-4F89-41D3-9A0C-0305E82C3301"), "eth", "USDT-ETH", "0x52908400098527886E0F7030069857D2E4169EE7", 20_000_000, []);

        Assert.Equal("eed0fbbc4d3b92aa48999f647eb954ea060f7353bfd18c5c57c7bcaed3d08647", Hex(PayoutMerkleTree.Leaf(entry)));
    }

    [Theory]
    [MemberData(nameof(Leaves))]
    public void Leaves_match_the_vectors(int index, string expected)
    {
        Assert.Equal(expected, Hex(PayoutMerkleTree.Leaf(Entries[index])));
        Assert.Equal(expected, Hex(PayoutMerkleTree.Build(Entries).LeafOf(Entries[index].WithdrawalId)));
    }

    [Theory]
    [MemberData(nameof(Roots))]
    public void Roots_match_the_vectors(int count, string expected)
    {
        Assert.Equal(expected, Hex(PayoutMerkleTree.Build(Entries.Take(count)).Root()));
    }

    [Fact]
    public void Leaves_are_ordered_by_the_ordinal_order_of_the_lower_case_ids()
    {
        var tree = PayoutMerkleTree.Build(Entries);

        Assert.Equal(
            [
                "0a4f6e2c-8b1d-4c3e-a5f7-19b2c4d6e8f0", "1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b", "5c3d2e1f-0a9b-48c7-b6d5-e4f3a2b1c0d9",
                "9f8e7d6c-5b4a-4938-8271-605f4e3d2c1b", "9fffffff-ffff-4fff-bfff-ffffffffffff", "a0000000-0000-4000-8000-000000000000",
                "d2b9a8f0-0c1e-4f6a-9b3d-5e7f8a9b0c1d", "ffffffff-ffff-4fff-bfff-ffffffffffff",
            ],
            tree.Entries.Select(e => e.WithdrawalIdText));
    }

    [Fact]
    public void Branches_of_three_entries_skip_the_level_where_the_last_leaf_is_carried_up()
    {
        var tree = PayoutMerkleTree.Build(Entries.Take(3));

        AssertBranch(
            [(MerkleSide.Right, "2ad3171dcdff7e218e0615217b06c1a14e9f07619df9cea5d44b51bc5212c3eb"), (MerkleSide.Right, "8205573b7268aec69c0f8c1573fde4d516e2c594b48027198b1284dcf99f8623")],
            tree.BranchOf(Entries[1].WithdrawalId));
        AssertBranch(
            [(MerkleSide.Left, "3de43504fa8901799fefb47f189b4c23ba36f6f454002796258634e1ffb43503"), (MerkleSide.Right, "8205573b7268aec69c0f8c1573fde4d516e2c594b48027198b1284dcf99f8623")],
            tree.BranchOf(Entries[2].WithdrawalId));
        AssertBranch(
            [(MerkleSide.Left, "857ef7e22e6f7114aac11f58e485e5f6d750835acd5cbe644c8803f1b80ce60a")],
            tree.BranchOf(Entries[0].WithdrawalId));
    }

    [Fact]
    public void Branches_of_five_entries_match_the_vectors()
    {
        var tree = PayoutMerkleTree.Build(Entries.Take(5));

        AssertBranch(
            [
                (MerkleSide.Right, "d9d8dc98d1e0dd514732cd0d6b6ae16f9269fe0878fc1b0ffe12700c258eb6f8"),
                (MerkleSide.Left, "29cd7eb9f8740289749e77db8869768f6e752c6e9ef202eec0a9d9722528d003"),
                (MerkleSide.Right, "8205573b7268aec69c0f8c1573fde4d516e2c594b48027198b1284dcf99f8623"),
            ],
            tree.BranchOf(Entries[2].WithdrawalId));
        AssertBranch(
            [
                (MerkleSide.Left, "2ad3171dcdff7e218e0615217b06c1a14e9f07619df9cea5d44b51bc5212c3eb"),
                (MerkleSide.Left, "29cd7eb9f8740289749e77db8869768f6e752c6e9ef202eec0a9d9722528d003"),
                (MerkleSide.Right, "8205573b7268aec69c0f8c1573fde4d516e2c594b48027198b1284dcf99f8623"),
            ],
            tree.BranchOf(Entries[3].WithdrawalId));
        // The last leaf is carried up twice: one step, the left subtree of the other four.
        AssertBranch(
            [(MerkleSide.Left, "9d76e8b8d36cbd4b8715149de30a0239dcb8de8f566abd555bf5cd640aee8c63")],
            tree.BranchOf(Entries[0].WithdrawalId));
    }

    [Fact]
    public void A_single_entry_has_an_empty_branch_that_verifies()
    {
        var tree = PayoutMerkleTree.Build([Entries[0]]);

        Assert.Empty(tree.BranchOf(Entries[0].WithdrawalId));
        Assert.True(PayoutMerkleTree.Verify(tree.LeafOf(Entries[0].WithdrawalId), [], tree.Root()));
    }

    [Fact]
    public void Every_branch_of_every_tree_size_up_to_33_verifies()
    {
        for (var size = 1; size <= 33; size++)
        {
            var entries = Generated(size, seed: size);
            var tree = PayoutMerkleTree.Build(entries);
            foreach (var entry in entries)
            {
                Assert.True(
                    PayoutMerkleTree.Verify(PayoutMerkleTree.Leaf(entry), tree.BranchOf(entry.WithdrawalId), tree.Root()),
                    $"size {size}, entry {entry.WithdrawalIdText}");
            }
        }
    }

    [Fact]
    public void The_root_does_not_depend_on_the_order_entries_are_given_in()
    {
        var expected = PayoutMerkleTree.Build(Entries).Root();
        var random = new Random(20260412);
        for (var i = 0; i < 50; i++)
        {
            var shuffled = Entries.ToArray();
            random.Shuffle(shuffled);
            Assert.Equal(Hex(expected), Hex(PayoutMerkleTree.Build(shuffled).Root()));
        }
    }

    [Fact]
    public void A_tampered_entry_does_not_verify()
    {
        var tree = PayoutMerkleTree.Build(Entries.Take(5));
        var entry = Entries[2];
        var branch = tree.BranchOf(entry.WithdrawalId);
        var root = tree.Root();

        Assert.True(PayoutMerkleTree.Verify(PayoutMerkleTree.Leaf(entry), branch, root));
        Assert.False(PayoutMerkleTree.Verify(PayoutMerkleTree.Leaf(entry with { AmountUnits = entry.AmountUnits + 1 }), branch, root));
        Assert.False(PayoutMerkleTree.Verify(PayoutMerkleTree.Leaf(entry with { Address = entry.Address.ToLowerInvariant() }), branch, root));
        Assert.False(PayoutMerkleTree.Verify(PayoutMerkleTree.Leaf(entry with { PaymentIds = ["pay_3", "pay_2"] }), branch, root));
        // Another entry's leaf with this entry's branch.
        Assert.False(PayoutMerkleTree.Verify(PayoutMerkleTree.Leaf(Entries[3]), branch, root));
    }

    [Fact]
    public void A_tampered_branch_or_root_does_not_verify()
    {
        var tree = PayoutMerkleTree.Build(Entries.Take(5));
        var leaf = tree.LeafOf(Entries[2].WithdrawalId);
        var branch = tree.BranchOf(Entries[2].WithdrawalId);
        var root = tree.Root();

        var flippedHash = branch.ToArray();
        var bytes = (byte[])flippedHash[1].Hash.Clone();
        bytes[31] ^= 0x01;
        flippedHash[1] = flippedHash[1] with { Hash = bytes };
        Assert.False(PayoutMerkleTree.Verify(leaf, flippedHash, root));

        var flippedSide = branch.ToArray();
        flippedSide[0] = flippedSide[0] with { Side = MerkleSide.Left };
        Assert.False(PayoutMerkleTree.Verify(leaf, flippedSide, root));

        Assert.False(PayoutMerkleTree.Verify(leaf, branch.Take(2).ToArray(), root));
        Assert.False(PayoutMerkleTree.Verify(leaf, [.. branch, branch[0]], root));
        Assert.False(PayoutMerkleTree.Verify(leaf, branch, PayoutMerkleTree.Build(Entries.Take(4)).Root()));
        Assert.False(PayoutMerkleTree.Verify(leaf, [branch[0], branch[1] with { Hash = [.. branch[1].Hash, 0] }, branch[2]], root));
    }

    [Fact]
    public void The_commitment_is_CPAY_version_1_and_the_root()
    {
        var root = PayoutMerkleTree.Build(Entries.Take(5)).Root();

        var commitment = PayoutMerkleTree.Commitment(root);

        Assert.Equal("4350415901dbad89b078e903724262618e3607b7dd874f643a9c4c91edfcfb3529d6de7d31", Hex(commitment));
        Assert.Equal(PayoutMerkleTree.CommitmentSize, commitment.Length);
        Assert.Equal(Hex(root), Hex(PayoutMerkleTree.ParseCommitment(commitment)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("4350415901")]
    [InlineData("4350415901dbad89b078e903724262618e3607b7dd874f643a9c4c91edfcfb3529d6de7d")] // 36 bytes
    [InlineData("4350415901dbad89b078e903724262618e3607b7dd874f643a9c4c91edfcfb3529d6de7d3100")] // 38 bytes
    [InlineData("4350415902dbad89b078e903724262618e3607b7dd874f643a9c4c91edfcfb3529d6de7d31")] // version 2
    [InlineData("4350415801dbad89b078e903724262618e3607b7dd874f643a9c4c91edfcfb3529d6de7d31")] // "CPAX"
    [InlineData("6a254350415901dbad89b078e903724262618e3607b7dd874f643a9c4c91edfcfb3529d6de7d31")] // the whole script
    public void Anything_but_a_37_byte_CPAY_version_1_commitment_is_refused(string hex)
    {
        Assert.Throws<FormatException>(() => PayoutMerkleTree.ParseCommitment(Convert.FromHexString(hex)));
    }

    [Fact]
    public void A_batch_has_at_least_one_entry_and_each_withdrawal_once()
    {
        Assert.Throws<ArgumentException>(() => PayoutMerkleTree.Build([]));
        Assert.Throws<ArgumentException>(() => PayoutMerkleTree.Build([Entries[0], Entries[1], Entries[0] with { AmountUnits = 2 }]));
    }

    [Fact]
    public void Entries_whose_bytes_could_be_read_two_ways_are_refused()
    {
        var entry = Entries[0];

        Assert.Throws<ArgumentException>(() => (entry with { Address = "rltc1qa\n1" }).CanonicalBytes());
        Assert.Throws<ArgumentException>(() => (entry with { Asset = "" }).CanonicalBytes());
        Assert.Throws<ArgumentException>(() => (entry with { PaymentIds = ["a,b"] }).CanonicalBytes());
        Assert.Throws<ArgumentException>(() => (entry with { PaymentIds = [""] }).CanonicalBytes());
        Assert.Throws<ArgumentException>(() => (entry with { Network = "LTC" }).CanonicalBytes());
        Assert.Throws<ArgumentException>(() => (entry with { Network = "sandbox" }).CanonicalBytes());
        Assert.Throws<ArgumentException>(() => (entry with { AmountUnits = 0 }).CanonicalBytes());
        Assert.Throws<ArgumentException>(() => (entry with { AmountUnits = -5 }).CanonicalBytes());
        Assert.Throws<ArgumentException>(() => PayoutMerkleTree.Build([entry with { Address = "a\nb" }]));
    }

    [Fact]
    public void A_withdrawal_outside_the_batch_has_no_branch()
    {
        var tree = PayoutMerkleTree.Build(Entries.Take(3));

        Assert.Throws<KeyNotFoundException>(() => tree.BranchOf(Entries[4].WithdrawalId));
    }

    [Fact]
    public void Hashes_handed_out_are_copies()
    {
        var tree = PayoutMerkleTree.Build(Entries.Take(3));
        var root = tree.Root();
        root[0] ^= 0xff;
        tree.BranchOf(Entries[0].WithdrawalId)[0].Hash[0] ^= 0xff;

        Assert.Equal("9b89d1ba0558eb6f03521e8c3050f733ece6acb883f29e56ebab8c92e87c9c53", Hex(tree.Root()));
        Assert.True(PayoutMerkleTree.Verify(tree.LeafOf(Entries[0].WithdrawalId), tree.BranchOf(Entries[0].WithdrawalId), tree.Root()));
    }

    private static PayoutEntry Entry(string id, string address, long units, params string[] paymentIds) =>
        new(Guid.Parse(id), "ltc", "LTC", address, units, paymentIds);

    private static PayoutEntry[] Generated(int count, int seed)
    {
        var random = new Random(seed);
        return
        [
            .. Enumerable.Range(0, count).Select(i => new PayoutEntry(
                RandomGuid(random),
                "btc",
                "BTC",
                $"bcrt1q{i:x8}",
                new BigInteger(random.NextInt64(1, long.MaxValue)),
                [$"pay_{i}"])),
        ];
    }

    private static Guid RandomGuid(Random random)
    {
        var bytes = new byte[16];
        random.NextBytes(bytes);
        return new Guid(bytes);
    }

    private static void AssertBranch((MerkleSide Side, string Hash)[] expected, IReadOnlyList<MerkleStep> branch) =>
        Assert.Equal(expected, branch.Select(step => (step.Side, Hex(step.Hash))));

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
