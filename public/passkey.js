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

  async function post(endpoint, form) {
    const res = await fetch(`/api/${endpoint}`, {
      method: "POST",
      headers: { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form ?? {}),
    });
    if (!res.ok) throw (await res.json().catch(() => null)) ?? res.status;
    return res;
  }

  async function call(endpoint, form) {
    return (await post(endpoint, form)).json().catch(() => null);
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

  // One assertion: "conditional" waits quietly behind the username field's autofill, the
  // button's asks at once. A browser holds one request at a time, so the button first ends the
  // waiting one.
  let autofill = null;

  // The signed answer to a ceremony begun at `start`, as the server reads it; `asking` runs as
  // the browser is asked.
  async function assertion(start, mediation, signal, asking) {
    const { key, options } = await call(start);
    const { publicKey } = JSON.parse(options);
    publicKey.challenge = bytes(publicKey.challenge);
    for (const c of publicKey.allowCredentials ?? []) c.id = bytes(c.id);
    const asked = navigator.credentials.get(mediation ? { publicKey, mediation, signal } : { publicKey });
    asking?.();
    const got = await asked;
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
    return { key, credential: JSON.stringify(credential) };
  }

  // After a sign-in: where the server says (home, or the page /login was asked to return to).
  const follow = (res) => {
    location.href = res.redirected ? res.url : (res.headers.get("Location") ?? "/");
  };

  // The one sign-in this page is finishing, if any. The autofill's answer can arrive just as the
  // button's ceremony begins; a second finish would then carry the first one's cookie, end that
  // session and be cut off by the page leaving, leaving the browser signed out.
  let finishing = null;

  async function passkeySignIn(mediation, signal, asking) {
    const answer = await assertion("passkey_sign_in_start", mediation, signal, asking);
    if (finishing) return finishing;
    const next = new URLSearchParams(location.search).get("next") ?? "";
    finishing = post("passkey_sign_in_finish", { ...answer, next }).then(follow, (error) => {
      finishing = null;
      throw error;
    });
    return finishing;
  }

  function stopAutofill() {
    autofill?.abort();
    autofill = null;
  }

  async function signIn() {
    if (finishing) return finishing;
    stopAutofill();
    await passkeySignIn();
  }

  // The sign-in step after the password: the answer goes where a typed code goes, and the
  // page follows where that leads (home, or the page that asked for a fresh sign-in).
  async function step() {
    const answer = await assertion("passkey_step_start");
    follow(await post("verify_code", { method: "passkey", code: JSON.stringify(answer) }));
  }

  // The browser's passkey autofill on a username field marked `autocomplete="username webauthn"`,
  // begun whenever such a field appears (a client-side visit to /login included).
  async function offerAutofill() {
    const field = document.querySelector('input[autocomplete~="webauthn"]');
    if (!field || field.dataset.passkeyAutofill) return;
    field.dataset.passkeyAutofill = "checking"; // marked before the await, so once per field
    if (!(await window.PublicKeyCredential?.isConditionalMediationAvailable?.())) {
      field.dataset.passkeyAutofill = "unavailable";
      return;
    }
    stopAutofill();
    const mine = new AbortController();
    autofill = mine;
    // "waiting" only once the browser holds the request, so what it answers with is what the
    // authenticator holds from then on.
    const waiting = () => {
      if (autofill === mine) field.dataset.passkeyAutofill = "waiting";
    };
    try {
      await passkeySignIn("conditional", mine.signal, waiting);
    } catch (error) {
      if (autofill !== mine) return; // ended on purpose
      const status = document.getElementById("passkey-status");
      if (status && error?.name !== "NotAllowedError") status.textContent = status.dataset.failed;
      console.info("passkey autofill:", error);
    }
  }

  new MutationObserver(() => {
    if (autofill && !document.querySelector('input[autocomplete~="webauthn"]')) stopAutofill();
    offerAutofill();
  }).observe(document.documentElement, { childList: true, subtree: true });
  offerAutofill();

  document.addEventListener("click", (event) => {
    const button = event.target.closest?.("[data-passkey]");
    if (!button) return;
    event.preventDefault();
    const status = document.getElementById("passkey-status");
    if (status) status.textContent = "";
    const run = { add, step }[button.dataset.passkey] ?? signIn;
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
