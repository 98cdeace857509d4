// compile.js compiles the contracts with solcjs (standard JSON) and writes
// NAME.abi and NAME.bin beside them. Run through gen.sh.
const fs = require('fs');
const path = require('path');
const solc = require(process.env.SOLC_MODULE || 'solc');
const dir = __dirname;
// [source file, contract] pairs; QuirkyTokens.sol holds tokens for tests.
const contracts = [
  ['SpareEscrow', 'SpareEscrow'], ['TestToken', 'TestToken'],
  ['QuirkyTokens', 'NoReturnToken'], ['QuirkyTokens', 'FeeToken'], ['QuirkyTokens', 'FalseToken'],
];
const files = [...new Set(contracts.map(c => c[0]))];
const input = {
  language: 'Solidity',
  sources: Object.fromEntries(files.map(f => [f + '.sol', { content: fs.readFileSync(path.join(dir, f + '.sol'), 'utf8') }])),
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: 'cancun',
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
  },
};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
let failed = false;
for (const e of out.errors || []) {
  console.error(e.formattedMessage);
  if (e.severity === 'error') failed = true;
}
if (failed) process.exit(1);
for (const [f, n] of contracts) {
  const c = out.contracts[f + '.sol'][n];
  fs.writeFileSync(path.join(dir, n + '.abi'), JSON.stringify(c.abi, null, 1) + '\n');
  fs.writeFileSync(path.join(dir, n + '.bin'), c.evm.bytecode.object + '\n');
}
console.error('compiled with solc ' + solc.version());
