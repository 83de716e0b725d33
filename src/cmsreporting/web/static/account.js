// "My account": name and language, password, the browser sessions signed in, and the API
// tokens of the user's scripts (made, listed and revoked here).

import { ApiError, api } from "./api.js";
import { h, replace, when } from "./dom.js";
import { ACCOUNT_LANGUAGES, LANGUAGES, getLang, setLang, t } from "./i18n.js";
import { announce, problemNode, session } from "./shared.js";

function okBox(box, text) {
  replace(box, h("p", { class: "alert ok", role: "status" }, text));
  announce(text);
}

function profileSection() {
  const box = h("div", { "aria-live": "polite" });
  const display = h("input", { id: "acct-display", maxlength: 200, autocomplete: "name", value: session.me.display_name || "" });
  const language = h(
    "select",
    { id: "acct-language" },
    ACCOUNT_LANGUAGES.map((code) => h("option", { value: code, lang: code }, LANGUAGES[code])),
  );
  language.value = session.me.language || getLang();
  const save = h("button", { type: "submit", class: "btn primary" }, t("account.save"));
  return h(
    "section",
    { class: "block", "aria-labelledby": "acct-profile" },
    h("h2", { id: "acct-profile" }, t("account.profile")),
    h(
      "form",
      {
        class: "card narrow",
        onsubmit: async (event) => {
          event.preventDefault();
          replace(box);
          save.disabled = true;
          try {
            const me = await api.patch("me", { display_name: display.value.trim(), language: language.value });
            session.me = { ...session.me, ...me };
            const changedLanguage = me.language !== getLang() && ACCOUNT_LANGUAGES.includes(getLang());
            if (changedLanguage) {
              setLang(me.language);
              location.reload(); // every text of the page in the new language
              return;
            }
            okBox(box, t("account.saved"));
          } catch (error) {
            replace(box, problemNode(error));
          } finally {
            save.disabled = false;
          }
        },
      },
      h("dl", { class: "facts" }, h("dt", {}, t("account.name")), h("dd", {}, session.me.name), h("dt", {}, t("account.email")), h("dd", {}, session.me.email || t("account.no_email"))),
      h("div", { class: "field" }, h("label", { for: "acct-display" }, t("account.display_name")), display),
      h("div", { class: "field" }, h("label", { for: "acct-language" }, t("account.language")), language),
      box,
      h("p", {}, save),
    ),
  );
}

function passwordSection() {
  const box = h("div", { "aria-live": "polite" });
  const current = h("input", { id: "acct-current", type: "password", autocomplete: "current-password", required: true, maxlength: 256 });
  const fresh = h("input", { id: "acct-new", type: "password", autocomplete: "new-password", required: true, maxlength: 256, "aria-describedby": "acct-new-help" });
  const again = h("input", { id: "acct-again", type: "password", autocomplete: "new-password", required: true, maxlength: 256 });
  const save = h("button", { type: "submit", class: "btn" }, t("account.password_save"));
  return h(
    "section",
    { class: "block", "aria-labelledby": "acct-password" },
    h("h2", { id: "acct-password" }, t("account.password")),
    h(
      "form",
      {
        class: "card narrow",
        onsubmit: async (event) => {
          event.preventDefault();
          replace(box);
          if (fresh.value !== again.value) {
            replace(box, h("p", { class: "alert error" }, t("account.password_mismatch")));
            again.focus();
            return;
          }
          save.disabled = true;
          try {
            await api.put("me/password", { current_password: current.value, new_password: fresh.value });
            for (const input of [current, fresh, again]) input.value = "";
            okBox(box, t("account.password_saved"));
          } catch (error) {
            replace(box, problemNode(error));
          } finally {
            save.disabled = false;
          }
        },
      },
      h("div", { class: "field" }, h("label", { for: "acct-current" }, t("account.password_current")), current),
      h("div", { class: "field" }, h("label", { for: "acct-new" }, t("account.password_new")), fresh),
      h("p", { class: "help", id: "acct-new-help" }, t("account.password_help")),
      h("div", { class: "field" }, h("label", { for: "acct-again" }, t("account.password_again")), again),
      box,
      h("p", {}, save),
    ),
  );
}

async function sessionsSection(onSignedOut) {
  const box = h("div", { "aria-live": "polite" });
  const body = h("div");
  async function load() {
    const sessions = await api.get("me/sessions");
    if (!sessions.length) {
      replace(body, h("p", { class: "empty" }, t("account.no_sessions")));
      return;
    }
    replace(
      body,
      h(
        "table",
        { class: "data" },
        h("thead", {}, h("tr", {}, [t("account.col_device"), t("account.col_started"), t("account.col_seen"), t("col.actions")].map((x) => h("th", { scope: "col" }, x)))),
        h(
          "tbody",
          {},
          sessions.map((s) =>
            h(
              "tr",
              {},
              h("th", { scope: "row" }, s.user_agent || t("account.unknown_device"), s.address ? h("span", { class: "muted small" }, ` · ${s.address}`) : null, s.current ? h("strong", {}, ` (${t("account.this_browser")})`) : null),
              h("td", {}, when(s.created_at)),
              h("td", {}, when(s.last_seen_at)),
              h(
                "td",
                {},
                h(
                  "button",
                  {
                    type: "button",
                    class: "btn small",
                    onclick: async () => {
                      try {
                        await api.delete(`me/sessions/${s.id}`);
                        if (s.current) {
                          onSignedOut();
                          return;
                        }
                        okBox(box, t("account.session_ended"));
                        await load();
                      } catch (error) {
                        replace(box, problemNode(error));
                      }
                    },
                  },
                  t("account.end_session"),
                ),
              ),
            ),
          ),
        ),
      ),
    );
  }
  await load();
  const everywhere = h(
    "button",
    {
      type: "button",
      class: "btn danger",
      onclick: async () => {
        try {
          await api.post("auth/signout-everywhere");
          if (session.me.signed_in_with === "session") onSignedOut();
          else {
            okBox(box, t("account.signed_out_everywhere"));
            await load();
          }
        } catch (error) {
          replace(box, problemNode(error));
        }
      },
    },
    t("account.signout_everywhere"),
  );
  return h(
    "section",
    { class: "block", "aria-labelledby": "acct-sessions" },
    h("h2", { id: "acct-sessions" }, t("account.sessions")),
    h("p", { class: "help" }, t("account.sessions_help")),
    body,
    box,
    h("p", {}, everywhere),
  );
}

async function tokensSection() {
  const box = h("div", { "aria-live": "polite" });
  const body = h("div");
  async function load() {
    const tokens = await api.get("me/tokens");
    if (!tokens.length) {
      replace(body, h("p", { class: "empty" }, t("account.no_tokens")));
      return;
    }
    replace(
      body,
      h(
        "table",
        { class: "data" },
        h("thead", {}, h("tr", {}, [t("account.col_label"), t("account.col_started"), t("account.col_expires"), t("account.col_state"), t("col.actions")].map((x) => h("th", { scope: "col" }, x)))),
        h(
          "tbody",
          {},
          tokens.map((tok) => {
            const label = tok.label || `${tok.prefix}…`;
            const state = tok.revoked_at ? t("account.token_revoked") : tok.active ? t("account.token_active") : t("account.token_expired");
            return h(
              "tr",
              {},
              h("th", { scope: "row" }, label, h("span", { class: "muted small" }, ` · ${tok.prefix}…`)),
              h("td", {}, when(tok.created_at)),
              h("td", {}, tok.expires_at ? when(tok.expires_at) : t("account.never")),
              h("td", {}, state),
              h(
                "td",
                {},
                tok.active
                  ? h(
                      "button",
                      {
                        type: "button",
                        class: "btn small",
                        "aria-label": t("account.revoke_named", { label }),
                        onclick: async () => {
                          try {
                            await api.delete(`me/tokens/${tok.id}`);
                            okBox(box, t("account.token_revoked_done", { label }));
                            await load();
                          } catch (error) {
                            replace(box, problemNode(error));
                          }
                        },
                      },
                      t("account.revoke"),
                    )
                  : null,
              ),
            );
          }),
        ),
      ),
    );
  }
  await load();
  const label = h("input", { id: "token-label", maxlength: 100, autocomplete: "off" });
  const days = h("input", { id: "token-days", type: "number", min: 1, max: 3650, value: 90, class: "short", inputmode: "numeric" });
  const shown = h("div", { "aria-live": "polite" });
  const create = h("button", { type: "submit", class: "btn" }, t("account.token_create"));
  const form = h(
    "form",
    {
      class: "card narrow",
      onsubmit: async (event) => {
        event.preventDefault();
        replace(box);
        replace(shown);
        create.disabled = true;
        try {
          const made = await api.post("me/tokens", { label: label.value.trim() || null, expires_in_days: Number(days.value) || null });
          label.value = "";
          replace(
            shown,
            h(
              "div",
              { class: "alert ok", role: "status" },
              h("p", {}, t("account.token_once")),
              h("p", {}, h("code", { class: "secret", id: "new-token" }, made.token)),
            ),
          );
          await load();
        } catch (error) {
          replace(box, problemNode(error));
        } finally {
          create.disabled = false;
        }
      },
    },
    h("h3", {}, t("account.token_new")),
    h("div", { class: "field" }, h("label", { for: "token-label" }, t("account.token_label")), label),
    h("div", { class: "field" }, h("label", { for: "token-days" }, t("account.token_days")), days),
    h("p", {}, create),
    shown,
  );
  return h(
    "section",
    { class: "block", "aria-labelledby": "acct-tokens" },
    h("h2", { id: "acct-tokens" }, t("account.tokens")),
    h("p", { class: "help" }, t("account.tokens_help")),
    body,
    box,
    form,
  );
}

/** The "my account" page. */
export async function accountView(ctx, { onSignedOut }) {
  try {
    const me = await api.get("me");
    session.me = { ...session.me, ...me };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
  }
  const page = h(
    "div",
    { class: "account" },
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, t("nav.home"))),
    h("h1", {}, t("account.title")),
    profileSection(),
    passwordSection(),
    await sessionsSection(onSignedOut),
    await tokensSection(),
  );
  ctx.show(page, { title: t("account.title") });
}
