// The pages' one script (bundled by `npm run build:web` into api/static/build/app.js, exposed as `LedgerWeb`).
//
// It only enhances: every form works without it. On the verify page it hashes the chosen file here, in the
// browser, and sends only the digest (REGISTRATION_RULES §6.3: 原始数据不出域 — the file never leaves the
// user's machine). SHA-256 uses WebCrypto; where WebCrypto is unavailable (a page served over plain http from
// another host is not a secure context) @noble/hashes' audited SHA-256 does it. SM3 (GB/T 32905-2016) comes from
// sm-crypto-v2, Keccak-256 from @noble/hashes; tests/browser checks all three against the standard vectors and
// against the server's own hashing.
import { sha256 } from "@noble/hashes/sha256";
import { keccak_256 } from "@noble/hashes/sha3";
import { bytesToHex } from "@noble/hashes/utils";
import { sm3 } from "sm-crypto-v2";

export const ALGORITHMS = ["sha256", "sm3", "keccak256"];

/** The digest of `bytes` (a Uint8Array) as lower-case hex, without 0x. `webcrypto: false` forces the library. */
export async function digest(bytes, algorithm, { webcrypto = true } = {}) {
  switch (algorithm) {
    case "sha256":
      if (webcrypto && globalThis.crypto && globalThis.crypto.subtle) {
        return bytesToHex(new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", bytes)));
      }
      return bytesToHex(sha256(bytes));
    case "sm3":
      return sm3(bytes);
    case "keccak256":
      return bytesToHex(keccak_256(bytes));
    default:
      throw new Error(`unknown hash algorithm ${algorithm}`);
  }
}

/** The digest of a File or Blob. */
export async function digestFile(file, algorithm) {
  return digest(new Uint8Array(await file.arrayBuffer()), algorithm);
}

function say(status, zh, en) {
  if (!status) return;
  status.textContent = `${zh} `;
  const english = document.createElement("span");
  english.lang = "en";
  english.textContent = en;
  status.append(english);
}

function enhanceVerifyForm(form) {
  const input = form.querySelector('input[type="file"]');
  const select = form.querySelector('select[name="hash_algorithm"]');
  const status = form.querySelector("[data-hash-status]");
  say(status, "文件将在本机计算哈希，只发送哈希值。", "Your browser hashes the file; only the digest is sent.");
  form.addEventListener("submit", async (event) => {
    const file = input && input.files && input.files[0];
    if (!file) return; // the browser's own "required" message
    event.preventDefault();
    const algorithm = select ? select.value : "sha256";
    form.setAttribute("aria-busy", "true");
    say(status, `正在本机计算 ${file.name} 的哈希…`, `Hashing ${file.name} on this computer…`);
    try {
      const hex = await digestFile(file, algorithm);
      say(status, `哈希值 0x${hex}，正在查询…`, `Digest 0x${hex}; looking it up…`);
      window.location.assign(`/verify/0x${hex}?hash_algorithm=${encodeURIComponent(algorithm)}`);
    } catch (error) {
      form.removeAttribute("aria-busy");
      say(status, `无法在本机计算哈希（${error.message}）。可改用下方“按哈希值核验”，或在命令行运行 ledger evidence verify。`,
        `The browser could not hash it (${error.message}). Verify its digest below, or run ledger evidence verify.`);
    }
  });
}

// A browser wallet (EIP-1193 `window.ethereum`), when the user has one: it signs the login request
// (personal_sign, EIP-191) or a consent (eth_signTypedData_v4, EIP-712) and the form is filled with the result.
// Without a wallet the buttons stay hidden and the forms take a pasted signature.
function wallet() {
  return typeof window !== "undefined" && window.ethereum && typeof window.ethereum.request === "function"
    ? window.ethereum : null;
}

async function walletAccount(provider) {
  const [account] = await provider.request({ method: "eth_requestAccounts" });
  return account;
}

function enhanceWalletLogin(form) {
  const button = form.querySelector("[data-wallet-login]");
  const provider = wallet();
  if (!button || !provider) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    const timestamp = Math.floor(Date.now() / 1000);
    const text = form.dataset.loginText.replace(/\n\d+\n/, `\n${timestamp}\n`);
    const account = await walletAccount(provider);
    const hex = "0x" + Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, "0")).join("");
    form.elements.address.value = account;
    form.elements.timestamp.value = String(timestamp);
    form.elements.signature.value = await provider.request({ method: "personal_sign", params: [hex, account] });
    form.submit();
  });
}

function enhanceConsentForm(form) {
  const button = form.querySelector("[data-wallet-sign]");
  const provider = wallet();
  if (!button || !provider) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    const typed = document.getElementById(form.dataset.typedData).textContent;
    const account = await walletAccount(provider);
    form.elements.signature.value = await provider.request({
      method: "eth_signTypedData_v4", params: [account, typed] });
  });
}

export function enhance(root = document) {
  root.querySelectorAll("form[data-hash-in-browser]").forEach(enhanceVerifyForm);
  root.querySelectorAll("form[data-login-text]").forEach(enhanceWalletLogin);
  root.querySelectorAll("form[data-typed-data]").forEach(enhanceConsentForm);
}

if (typeof document !== "undefined") {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => enhance());
  else enhance();
}
