// Compiles one Solidity file with the pinned solc-js and prints {"contracts": {Name: {"abi": [...], "bytecode": "0x..."}}}.
// Usage: node compile.cjs <file.sol>. The EVM version matches the hardfork EvmDevNode starts ganache with.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const file = process.argv[2];
if (!file) {
  console.error('usage: node compile.cjs <file.sol>');
  process.exit(2);
}

const input = {
  language: 'Solidity',
  sources: { [path.basename(file)]: { content: fs.readFileSync(file, 'utf8') } },
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: 'shanghai',
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
  },
};

const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === 'error');
if (errors.length > 0) {
  console.error(errors.map((e) => e.formattedMessage).join('\n'));
  process.exit(1);
}

const contracts = {};
for (const unit of Object.values(output.contracts)) {
  for (const [name, contract] of Object.entries(unit)) {
    contracts[name] = { abi: contract.abi, bytecode: '0x' + contract.evm.bytecode.object };
  }
}
process.stdout.write(JSON.stringify({ solc: solc.version(), contracts }));
