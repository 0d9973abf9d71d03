// Hardhat 2.x (Node 20). It compiles with the same pinned npm solc (solcjs) and the same settings
// as the Python compiler (contracts/compiler-settings.json), so both produce identical bytecode.
const path = require("path");
const { subtask } = require("hardhat/config");
const { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } = require("hardhat/builtin-tasks/task-names");

const compilerSettings = require("./contracts/compiler-settings.json");

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args, hre, runSuper) => {
  if (args.solcVersion !== compilerSettings.solcVersion) {
    return runSuper();
  }
  const solcPackage = require("solc/package.json");
  if (solcPackage.version !== compilerSettings.solcVersion) {
    throw new Error(`npm solc is ${solcPackage.version}, expected ${compilerSettings.solcVersion}`);
  }
  return {
    compilerPath: path.join(__dirname, "node_modules", "solc", "soljson.js"),
    isSolcJs: true,
    version: args.solcVersion,
    longVersion: require("solc").version().replace(".Emscripten.clang", ""),
  };
});

/** @type import('hardhat/config').HardhatUserConfig */
module.exports = {
  solidity: {
    version: compilerSettings.solcVersion,
    settings: compilerSettings.settings,
  },
  paths: {
    sources: "./contracts",
    artifacts: "./build/hardhat/artifacts",
    cache: "./build/hardhat/cache",
  },
  networks: {
    hardhat: {
      chainId: 31337,
      hardfork: "cancun",
    },
  },
};
