// Passkeys: the browser half of the WebAuthn ceremonies, loaded only by the pages that offer
// them. The server's options carry bytes as base64url text; WebAuthn wants ArrayBuffers, and
// the server wants base64url back.
(() => {
  if (window.dynamicOtpPasskeys) return;
  window.dynamicOtpPasskeys = true;

  const bytes = (text) =>
    Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "=")), (c) =>
      c.charCodeAt(0),
    ).buffer;
  const text = (buffer) =>
    btoa(String.fromCharCode(...new Uint8Array(buffer)))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");

  async function call(endpoint, form) {
    const res = await fetch(`/api/${endpoint}`, {
      method: "POST",
      headers: { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form ?? {}),
    });
    const body = await res.json().catch(() => null);
    if (!res.ok) throw body ?? res.status;
    return body;
  }

  async function add() {
    const { key, options } = await call("passkey_register_start");
    const { publicKey } = JSON.parse(options);
    publicKey.challenge = bytes(publicKey.challenge);
    publicKey.user.id = bytes(publicKey.user.id);
    for (const c of publicKey.excludeCredentials ?? []) c.id = bytes(c.id);
    const made = await navigator.credentials.create({ publicKey });
    const credential = {
      id: made.id,
      rawId: text(made.rawId),
      type: made.type,
      response: {
        attestationObject: text(made.response.attestationObject),
        clientDataJSON: text(made.response.clientDataJSON),
        transports: made.response.getTransports?.() ?? [],
      },
      extensions: made.getClientExtensionResults?.() ?? {},
    };
    const name = document.getElementById("field-passkey_name")?.value ?? "";
    await call("passkey_register_finish", { key, credential: JSON.stringify(credential), name });
    location.reload();
  }

  async function signIn() {
    const { key, options } = await call("passkey_sign_in_start");
    const { publicKey } = JSON.parse(options);
    publicKey.challenge = bytes(publicKey.challenge);
    for (const c of publicKey.allowCredentials ?? []) c.id = bytes(c.id);
    const got = await navigator.credentials.get({ publicKey });
    const r = got.response;
    const credential = {
      id: got.id,
      rawId: text(got.rawId),
      type: got.type,
      response: {
        authenticatorData: text(r.authenticatorData),
        clientDataJSON: text(r.clientDataJSON),
        signature: text(r.signature),
        userHandle: r.userHandle ? text(r.userHandle) : null,
      },
      extensions: got.getClientExtensionResults?.() ?? {},
    };
    await call("passkey_sign_in_finish", { key, credential: JSON.stringify(credential) });
    location.href = "/";
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest?.("[data-passkey]");
    if (!button) return;
    event.preventDefault();
    const status = document.getElementById("passkey-status");
    if (status) status.textContent = "";
    const run = button.dataset.passkey === "add" ? add : signIn;
    button.disabled = true;
    run()
      .catch((error) => {
        if (status) status.textContent = status.dataset.failed;
        console.info("passkey:", error);
      })
      .finally(() => {
        button.disabled = false;
      });
  });
})();
