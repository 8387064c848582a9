#!/usr/bin/env python3
"""Checks a CryptoPay payout proof (GET /v1/proofs/{id}) with your own litecoind or bitcoind.

    verify_payout_proof.py PROOF.json --rpc http://127.0.0.1:9332/ --user U --password P

Python 3 standard library only. The hashing rules and every check are explained in docs/PROOFS.md.
Exit status: 0 every check passed; 1 a check failed (named on stderr); 2 bad usage or the node could not be asked.
"""
import argparse
import base64
import decimal
import hashlib
import json
import sys
import urllib.error
import urllib.request


class CheckFailed(Exception):
    pass


class NodeUnavailable(Exception):
    pass


def sha256(data):
    return hashlib.sha256(data).digest()


def entry_bytes(entry):
    lines = ["cryptopay-payout-v1", entry["withdrawal_id"], entry["network"], entry["asset"],
             entry["address"], entry["amount_units"], ",".join(entry["payment_ids"])]
    return "\n".join(lines).encode("utf-8")


def fold(leaf, branch):
    node = leaf
    for step in branch:
        sibling = bytes.fromhex(step["hash"])
        if step["side"] == "left":
            node = sha256(b"\x01" + sibling + node)
        elif step["side"] == "right":
            node = sha256(b"\x01" + node + sibling)
        else:
            raise CheckFailed(f"branch: unknown side {step['side']!r}")
    return node


def check(name, passed, detail):
    if not passed:
        raise CheckFailed(f"{name}: {detail}")
    print(f"ok    {name}")


class Node:
    def __init__(self, url, user, password):
        self.url = url
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def call(self, method, *params):
        body = json.dumps({"jsonrpc": "1.0", "id": "verify", "method": method, "params": list(params)}).encode()
        request = urllib.request.Request(self.url, body, {"Authorization": self.auth, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answer = response.read()
        except urllib.error.HTTPError as error:
            answer = error.read()  # the node answers RPC errors with HTTP 404/500 and a JSON body
            if error.code in (401, 403) or not answer:
                raise NodeUnavailable(f"{method}: HTTP {error.code} from {self.url}") from error
        except (urllib.error.URLError, OSError) as error:
            raise NodeUnavailable(f"{method}: cannot reach {self.url}: {error}") from error
        reply = json.loads(answer, parse_float=decimal.Decimal)  # amounts stay exact
        if reply.get("error"):
            raise CheckFailed(f"{method}: the node answered {reply['error']}")
        return reply["result"]


def output_address(output):
    script = output["scriptPubKey"]
    addresses = script.get("addresses") or []  # Litecoin Core 0.21 prints a list, Bitcoin Core 22+ "address"
    return script.get("address") or (addresses[0] if len(addresses) == 1 else None)


def verify(proof, node):
    entry = proof["entry"]
    leaf = sha256(b"\x00" + entry_bytes(entry))
    check("leaf", leaf.hex() == proof["leaf"], f"the entry hashes to {leaf.hex()}, the proof says {proof['leaf']}")
    root = fold(leaf, proof["branch"])
    check("merkle_root", root.hex() == proof["merkle_root"], f"the branch folds to {root.hex()}, the proof says {proof['merkle_root']}")
    commitment = b"CPAY\x01" + root
    check("commitment", commitment.hex() == proof["commitment"], f"expected {commitment.hex()}, the proof says {proof['commitment']}")
    check("commitment_txid", proof["commitment_txid"] == proof["txid"], "on a UTXO chain the payout transaction carries the commitment")
    units = int(entry["amount_units"])
    check("amount", decimal.Decimal(proof["amount"]) * 10**8 == units, f"{proof['amount']} is not {units} smallest units")

    txid, block_hash = proof["txid"], proof["block_hash"]
    proven = node.call("verifytxoutproof", proof["txout_proof"])
    check("verifytxoutproof", proven == [txid], f"the proof proves {proven}, not [{txid}]")
    header = bytes.fromhex(proof["txout_proof"])[:80]
    header_hash = sha256(sha256(header))[::-1].hex()
    check("txout_proof block", header_hash == block_hash, f"the txout_proof is for block {header_hash}, not {block_hash}")
    block = node.call("getblockheader", block_hash)
    check("block in the active chain", block["confirmations"] >= 1, f"{block_hash} has {block['confirmations']} confirmations")
    check("block_height", block["height"] == proof["block_height"], f"{block_hash} is at height {block['height']}, not {proof['block_height']}")

    transaction = node.call("getrawtransaction", txid, True, block_hash)
    scripts = [output["scriptPubKey"]["hex"] for output in transaction["vout"]]
    check("OP_RETURN commitment", "6a25" + proof["commitment"] in scripts, f"{txid} has no output with script 6a25{proof['commitment']}")
    paid = [output for output in transaction["vout"]
            if output_address(output) == entry["address"] and output["value"] * 10**8 == units]
    check("payment output", len(paid) >= 1, f"{txid} pays {entry['address']} no output of exactly {units} units")


def main():
    parser = argparse.ArgumentParser(description="Check a CryptoPay payout proof with your own node (docs/PROOFS.md).")
    parser.add_argument("proof", help="the proof JSON file, as served by GET /v1/proofs/{id}")
    parser.add_argument("--rpc", required=True, help="the node's JSON-RPC URL, e.g. http://127.0.0.1:9332/")
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    args = parser.parse_args()
    with open(args.proof, encoding="utf-8") as file:
        proof = json.load(file, parse_float=decimal.Decimal)
    try:
        verify(proof, Node(args.rpc, args.user, args.password))
    except CheckFailed as failure:
        print(f"FAIL  {failure}", file=sys.stderr)
        return 1
    except (KeyError, TypeError, ValueError, ArithmeticError) as error:
        print(f"FAIL  malformed proof: {error!r}", file=sys.stderr)
        return 1
    except NodeUnavailable as error:
        print(f"ERROR {error}", file=sys.stderr)
        return 2
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
