// The web interface of cmsreporting: shell, router, sign-in, home and new workspace.
// Built only on the public API (/api/v1); see README.md, "Web interface".

import { accountView } from "./account.js";
import { coveragePairView, coverageView } from "./coverage.js";
import { workbenchView } from "./workbench.js";
import { ApiError, api, getAll, setToken, setUnauthorizedHandler } from "./api.js";
import { day, focusElement, h, refLabel, replace } from "./dom.js";
import { ACCOUNT_LANGUAGES, LANGUAGES, applyDirection, getLang, hasChosenLang, hasInterfaceTexts, setLang, t } from "./i18n.js";
import { libraryParties, libraryView } from "./library.js";
import { PUBLIC_PATHS, forgotView, invitationView, resetView } from "./links.js";
import { membersView } from "./members.js";
import { statusView, submissionView } from "./review.js";
import { announce, partyName, problemNode, session, statusBadge } from "./shared.js";
import { closeWorkspaces, workspaceView } from "./workspace.js";

const main = document.getElementById("main");

// --- the shell -------------------------------------------------------------------------------

function renderShell() {
  applyDirection();
  document.getElementById("skip").textContent = t("skip");
  const langLabel = document.getElementById("lang-label");
  langLabel.textContent = t("language");
  const select = document.getElementById("lang-select");
  if (!select.options.length) {
    for (const [code, name] of Object.entries(LANGUAGES)) select.append(h("option", { value: code, lang: code }, name));
    select.addEventListener("change", () => {
      setLang(select.value);
      if (session.me && session.me.language !== select.value && ACCOUNT_LANGUAGES.includes(select.value)) {
        // remembered on the account, so every device and the e-mails use it
        session.me.language = select.value;
        api.patch("me", { language: select.value }).catch((error) => console.error(error));
      }
      renderShell();
      route();
    });
  }
  select.value = getLang();
  // ar, ru, zh: the reports may carry them, the interface's own texts fall back to English
  const note = document.getElementById("lang-note");
  note.hidden = hasInterfaceTexts();
  note.textContent = note.hidden ? "" : t("language.english_interface", { language: LANGUAGES[getLang()] });
  const nav = document.getElementById("topnav");
  const who = document.getElementById("who");
  if (!session.me) {
    replace(nav);
    replace(who);
    return;
  }
  const links = [h("a", { href: "#/" }, t("nav.home"))];
  if (session.isAdmin || session.isReviewer || session.secretariatOf.length) {
    links.push(h("a", { href: "#/?section=cycles" }, t("nav.cycles")));
    links.push(h("a", { href: "#/coverage" }, t("nav.coverage")));
  }
  // the document library of each Party whose reports the user writes
  const libraries = libraryParties();
  for (const party of libraries) {
    links.push(h("a", { href: `#/library/${party}` }, libraries.length > 1 ? t("nav.library_of", { party }) : t("nav.library")));
  }
  replace(nav, h("ul", {}, links.map((a) => h("li", {}, a))));
  replace(
    who,
    h("a", { class: "user", href: "#/account", title: t("account.title") }, session.me.display_name || session.me.name),
    h("button", { type: "button", class: "btn small quiet", onclick: signOut }, t("signout")),
  );
}

async function signOut() {
  closeWorkspaces();
  const bySession = session.me && session.me.signed_in_with === "session";
  setToken(null);
  session.me = null;
  if (bySession) {
    try {
      await api.post("auth/signout", undefined, { token: null });
    } catch (error) {
      console.error(error); // the cookie is cleared or ends by itself; sign in again regardless
    }
  }
  renderShell();
  location.hash = "#/signin";
}

/** Adopt the language of the user's account, unless one was chosen on this device. */
function adoptLanguage(me) {
  if (!hasChosenLang() && me.language && me.language !== getLang()) {
    setLang(me.language);
    renderShell();
  }
}

function signedOutEverywhere() {
  closeWorkspaces();
  setToken(null);
  session.me = null;
  renderShell();
  location.hash = "#/signin";
}

setUnauthorizedHandler(() => {
  // the token or session was revoked or expired: sign in again, then come back here; unsaved
  // answers stay in localStorage and are sent once the workspace is opened again
  if (!session.me) return;
  const raw = location.hash.replace(/^#/, "") || "/";
  closeWorkspaces();
  setToken(null);
  session.me = null;
  renderShell();
  sessionStorage.setItem("cmsr.after", raw);
  sessionStorage.setItem("cmsr.expired", "1");
  location.hash = "#/signin";
});

// --- routing ---------------------------------------------------------------------------------

let navigation = 0;
let cleanup = null;

/** Navigation context given to views: `show` puts a page in place unless the user moved on. */
function context(query) {
  const id = ++navigation;
  return {
    query,
    alive: () => id === navigation,
    show(node, { title, focus = true } = {}) {
      if (id !== navigation) return false;
      replace(main, node);
      document.title = title ? `${title} — cmsreporting` : "cmsreporting";
      window.scrollTo(0, 0);
      if (focus) {
        // a new page: its heading takes the focus, so screen readers start there
        const heading = main.querySelector("h1") || main;
        heading.setAttribute("tabindex", "-1");
        heading.focus({ preventScroll: true });
      }
      return true;
    },
    onLeave(fn) {
      cleanup = fn;
    },
  };
}

const routes = [
  [/^\/signin$/, (m, ctx) => signInView(ctx)],
  [/^\/invitation\/([^/]+)$/, (m, ctx) => invitationView(ctx, decodeURIComponent(m[1]))],
  [/^\/reset\/([^/]+)$/, (m, ctx) => resetView(ctx, decodeURIComponent(m[1]))],
  [/^\/forgot$/, (m, ctx) => forgotView(ctx)],
  [/^\/account$/, (m, ctx) => accountView(ctx, { onSignedOut: signedOutEverywhere })],
  [/^\/$/, (m, ctx) => homeView(ctx)],
  [/^\/new$/, (m, ctx) => newWorkspaceView(ctx)],
  [/^\/w\/(\d+)$/, (m, ctx) => workspaceView(ctx, Number(m[1]), "form")],
  [/^\/w\/(\d+)\/preview\/([^/]+)$/, (m, ctx) => workspaceView(ctx, Number(m[1]), "preview", decodeURIComponent(m[2]))],
  [/^\/w\/(\d+)\/submit$/, (m, ctx) => workspaceView(ctx, Number(m[1]), "submit")],
  [/^\/cycles\/([^/]+)$/, (m, ctx) => statusView(ctx, decodeURIComponent(m[1]))],
  [/^\/members\/([^/]+)$/, (m, ctx) => membersView(ctx, decodeURIComponent(m[1]))],
  [/^\/s\/(\d+)$/, (m, ctx) => submissionView(ctx, Number(m[1]))],
  [/^\/library\/([A-Za-z]{3})$/, (m, ctx) => libraryView(ctx, m[1])],
  [/^\/coverage$/, (m, ctx) => coverageView(ctx)],
  [/^\/workbench\/([^/]+)\/([^/]+)$/, (m, ctx) => workbenchView(ctx, decodeURIComponent(m[1]), decodeURIComponent(m[2]))],
  [/^\/coverage\/([^/]+)\/([^/]+)$/, (m, ctx) => coveragePairView(ctx, decodeURIComponent(m[1]), decodeURIComponent(m[2]))],
];

async function route() {
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, queryString] = raw.split("?");
  const query = new URLSearchParams(queryString || "");
  if (!session.me && path !== "/signin" && !PUBLIC_PATHS.some((p) => p.test(path))) {
    // signed in by this tab's token, or by the browser's session cookie (any tab), or not at all
    try {
      session.me = await api.get("me");
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        setToken(null);
        sessionStorage.setItem("cmsr.after", raw);
        location.replace("#/signin");
        return;
      }
      const ctx = context(query);
      ctx.show(h("div", {}, h("h1", {}, t("error.title")), problemNode(error), retryButton()));
      return;
    }
    renderShell();
  }
  const ctx = context(query);
  for (const [pattern, view] of routes) {
    const match = pattern.exec(path);
    if (match) {
      try {
        await view(match, ctx);
      } catch (error) {
        console.error(error);
        ctx.show(h("div", {}, h("h1", {}, t("error.title")), problemNode(error), retryButton()));
      }
      return;
    }
  }
  ctx.show(h("div", {}, h("h1", {}, t("notfound")), h("p", {}, h("a", { href: "#/" }, t("nav.home")))));
}

function retryButton() {
  return h("p", {}, h("button", { type: "button", class: "btn", onclick: route }, t("retry")));
}

// --- sign in ---------------------------------------------------------------------------------

function afterSignIn() {
  renderShell();
  const after = sessionStorage.getItem("cmsr.after");
  sessionStorage.removeItem("cmsr.after");
  location.hash = after && after !== "/signin" ? `#${after}` : "#/";
}

function signInView(ctx) {
  const errorBox = h("div", { id: "signin-error", "aria-live": "assertive" });
  if (sessionStorage.getItem("cmsr.expired")) {
    sessionStorage.removeItem("cmsr.expired");
    errorBox.append(h("p", { class: "alert warn" }, t("signin.expired")));
  }
  const login = h("input", {
    id: "login",
    name: "username",
    autocomplete: "username",
    autocapitalize: "none",
    spellcheck: "false",
    required: true,
    maxlength: 254,
    "aria-describedby": "signin-error",
  });
  const password = h("input", {
    id: "password",
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
    maxlength: 256,
    "aria-describedby": "signin-error",
  });
  const button = h("button", { type: "submit", class: "btn primary" }, t("signin.submit"));
  const passwordForm = h(
    "form",
    {
      class: "card narrow",
      onsubmit: async (event) => {
        event.preventDefault();
        replace(errorBox);
        replace(tokenError);
        if (!login.value.trim() || !password.value) {
          replace(errorBox, h("p", { class: "alert error" }, t("signin.empty_password")));
          (login.value.trim() ? password : login).focus();
          return;
        }
        button.disabled = true;
        try {
          const signed = await api.post("auth/signin", { login: login.value.trim(), password: password.value }, { token: null });
          setToken(null);
          session.me = signed.user;
          adoptLanguage(signed.user);
          afterSignIn();
        } catch (error) {
          let message = null;
          if (error instanceof ApiError && error.status === 401) message = t("signin.bad_password");
          if (error instanceof ApiError && error.status === 429) message = t("signin.throttled");
          replace(errorBox, message ? h("p", { class: "alert error" }, message) : problemNode(error));
          password.value = "";
          password.focus();
        } finally {
          button.disabled = false;
        }
      },
    },
    h("h1", {}, t("signin.title")),
    h("p", {}, t("signin.intro")),
    h("div", { class: "field" }, h("label", { for: "login" }, t("signin.login")), login),
    h("div", { class: "field" }, h("label", { for: "password" }, t("signin.password")), password),
    errorBox,
    h("p", {}, button),
    h("p", { class: "muted small" }, t("signin.session")),
    h("p", {}, h("a", { href: "#/forgot", id: "forgot-link" }, t("signin.forgot"))),
  );

  const tokenError = h("div", { id: "token-error", "aria-live": "assertive" });
  const input = h("input", {
    id: "token",
    name: "token",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
    "aria-describedby": "token-help token-error",
  });
  const tokenButton = h("button", { type: "submit", class: "btn" }, t("signin.token_submit"));
  const tokenForm = h(
    "form",
    {
      class: "card narrow",
      onsubmit: async (event) => {
        event.preventDefault();
        const token = input.value.trim();
        replace(errorBox);
        replace(tokenError);
        if (!token) {
          replace(tokenError, h("p", { class: "alert error" }, t("signin.empty")));
          input.focus();
          return;
        }
        tokenButton.disabled = true;
        try {
          session.me = await api.get("me", { token });
          setToken(token);
          afterSignIn();
        } catch (error) {
          const message = error instanceof ApiError && error.status === 401 ? t("signin.bad") : null;
          replace(tokenError, message ? h("p", { class: "alert error" }, message) : problemNode(error));
          input.focus();
        } finally {
          tokenButton.disabled = false;
        }
      },
    },
    h("h2", {}, t("signin.token_title")),
    h("div", { class: "field" }, h("label", { for: "token" }, t("signin.token")), input),
    h("p", { id: "token-help", class: "help" }, t("signin.help")),
    tokenError,
    h("p", {}, tokenButton),
    h("p", { class: "muted small" }, t("signin.storage")),
  );
  ctx.show(h("div", { class: "signin" }, passwordForm, tokenForm), { title: t("signin.title"), focus: false });
  login.focus();
}

// --- home ------------------------------------------------------------------------------------


async function homeView(ctx) {
  const page = h("div", { class: "home" }, h("h1", {}, t("home.title", { name: session.me.name })));
  const focal = session.isAdmin || session.parties.length > 0;
  const follows = session.isAdmin || session.isReviewer || session.secretariatOf.length > 0;
  const codes = [...new Set(session.roles.map((r) => r.party).filter(Boolean))];
  const names = new Map(await Promise.all(codes.map(async (code) => [code, await partyName(code)])));
  const roles = session.roles.map((r) => [t(`role.${r.role}`), r.convention, r.party && names.get(r.party)].filter(Boolean).join(" · "));
  page.append(h("p", { class: "muted" }, t("home.roles"), " ", roles.join("; ") || t("home.noroles")));

  if (!focal && session.roles.some((r) => r.role === "contributor")) {
    // a contributor: the workspaces where sections are assigned to them
    const workspaces = await getAll("workspaces");
    page.append(
      h(
        "section",
        { "aria-labelledby": "ws-h", class: "block" },
        h("h2", { id: "ws-h" }, t("home.workspaces")),
        workspaces.length
          ? h(
              "ul",
              { class: "plain" },
              workspaces.map((w) => h("li", {}, h("a", { href: `#/w/${w.id}` }, w.title || `${names.get(w.party) || w.party} — ${w.cycles.map((c) => refLabel(c.cycle)).join(" + ")}`))),
            )
          : h("p", { class: "empty" }, t("asg.none_mine")),
      ),
    );
  }
  if (focal) {
    const [workspaces, submissions] = await Promise.all([
      getAll("workspaces"),
      getAll("submissions").catch(() => []),
    ]);
    for (const w of workspaces) if (!names.has(w.party)) names.set(w.party, await partyName(w.party));
    const section = h(
      "section",
      { "aria-labelledby": "ws-h", class: "block" },
      h(
        "div",
        { class: "block-head" },
        h("h2", { id: "ws-h" }, t("home.workspaces")),
        h("a", { class: "btn primary", href: "#/new" }, t("home.new")),
        libraryParties().map((party) => h("a", { class: "btn", href: `#/library/${party}` }, t("nav.library_of", { party }))),
      ),
    );
    if (!workspaces.length) section.append(h("p", { class: "empty" }, t("home.noworkspaces")));
    else {
      section.append(
        h(
          "ul",
          { class: "cards" },
          workspaces.map((w) =>
            h(
              "li",
              { class: "card ws-card" },
              h("h3", {}, h("a", { href: `#/w/${w.id}` }, w.title || `${names.get(w.party)} — ${w.cycles.map((c) => refLabel(c.cycle)).join(" + ")}`)),
              h(
                "ul",
                { class: "plain" },
                w.cycles.map((c) => {
                  const latest = submissions
                    .filter((s) => s.cycle === c.cycle && s.party === w.party)
                    .sort((a, b) => b.version - a.version)[0];
                  return h(
                    "li",
                    {},
                    h("strong", {}, refLabel(c.cycle)),
                    " — ",
                    t("due", { date: day(c.due_on) }),
                    " ",
                    latest ? h("a", { href: `#/s/${latest.id}` }, statusBadge(latest.status), ` v${latest.version}`) : statusBadge("draft"),
                  );
                }),
              ),
              h("p", {}, h("a", { class: "btn", href: `#/w/${w.id}` }, t("home.open"))),
            ),
          ),
        ),
      );
    }
    page.append(section);
  }

  if (follows) {
    const cycles = await getAll("cycles");
    const mine = session.isAdmin || session.isReviewer ? cycles : cycles.filter((c) => session.secretariatOf.includes(c.convention));
    page.append(
      h(
        "section",
        { "aria-labelledby": "cycles", class: "block" },
        h("h2", { id: "cycles", tabindex: "-1" }, t("home.cycles")),
        mine.length
          ? h(
              "table",
              { class: "data" },
              h(
                "thead",
                {},
                h("tr", {}, [t("col.cycle"), t("col.title"), t("col.due"), t("col.actions")].map((x) => h("th", { scope: "col" }, x))),
              ),
              h(
                "tbody",
                {},
                mine.map((c) =>
                  h(
                    "tr",
                    {},
                    h("th", { scope: "row" }, refLabel(c.ref)),
                    h("td", {}, c.title),
                    h("td", {}, day(c.due_on)),
                    h(
                      "td",
                      {},
                      h("a", { href: `#/cycles/${encodeURIComponent(c.ref)}` }, t("home.status"), h("span", { class: "sr-only" }, ` ${refLabel(c.ref)}`)),
                      " · ",
                      h("a", { href: `#/members/${encodeURIComponent(c.convention)}` }, t("home.members"), h("span", { class: "sr-only" }, ` ${c.convention}`)),
                    ),
                  ),
                ),
              ),
            )
          : h("p", { class: "empty" }, t("home.nocycles")),
      ),
    );
  }
  if (!focal && !follows) page.append(h("p", {}, t("home.nothing")));
  const toCycles = ctx.query.get("section") === "cycles" && follows;
  ctx.show(page, { title: t("nav.home"), focus: !toCycles });
  if (toCycles) focusElement(document.getElementById("cycles"));
}

// --- a new workspace -------------------------------------------------------------------------

async function newWorkspaceView(ctx) {
  const parties = session.parties;
  const partyFromQuery = (ctx.query.get("party") || "").toUpperCase();
  let party = partyFromQuery || parties[0] || "";
  const page = h("div", { class: "new-ws" });
  const body = h("div");
  const errorBox = h("div", { "aria-live": "assertive" });

  let partyControl;
  if (parties.length > 1 || session.isAdmin) {
    if (session.isAdmin && !parties.length) {
      partyControl = h("input", { id: "party", maxlength: 3, value: party, class: "short", autocomplete: "off" });
    } else {
      partyControl = h("select", { id: "party" }, parties.map((p) => h("option", { value: p }, p)));
      partyControl.value = party;
    }
    partyControl.addEventListener("change", () => {
      party = partyControl.value.trim().toUpperCase();
      load();
    });
  }

  const title = h("input", { id: "ws-title", maxlength: 300, autocomplete: "off" });
  const carry = h("input", { id: "ws-carry", type: "checkbox", checked: true });
  const cyclesBox = h("div", { class: "cycle-choices" });
  const create = h("button", { type: "submit", class: "btn primary" }, t("new.create"));

  async function load() {
    replace(cyclesBox, h("p", { class: "muted" }, t("loading")));
    if (!/^[A-Z]{3}$/.test(party)) {
      replace(cyclesBox, h("p", { class: "muted" }, t("new.party_first")));
      return;
    }
    let partyInfo;
    try {
      partyInfo = await api.get(`parties/${party}`);
    } catch (error) {
      replace(cyclesBox, problemNode(error));
      return;
    }
    const [cycles, workspaces] = await Promise.all([getAll("cycles"), getAll(`workspaces?party=${party}`)]);
    const members = new Set(partyInfo.memberships.map((m) => m.convention));
    const allowed = session.isAdmin ? members : new Set(session.focalConventions(party).filter((c) => members.has(c)));
    const taken = new Map();
    for (const w of workspaces) for (const c of w.cycles) taken.set(c.cycle, w.id);
    // a Party reports on a cycle when it is a member on its due date or today (ISO dates compare as text)
    const heldOn = (m, d) => (!m.since || m.since <= d) && (!m.withdrawn_on || d < m.withdrawn_on);
    const today = new Date().toISOString().slice(0, 10);
    const usable = cycles.filter(
      (c) => allowed.has(c.convention) && partyInfo.memberships.some((m) => m.convention === c.convention && (heldOn(m, c.due_on) || heldOn(m, today))),
    );
    if (!usable.length) {
      replace(cyclesBox, h("p", { class: "empty" }, t("new.nocycles", { party })));
      return;
    }
    replace(
      cyclesBox,
      h(
        "fieldset",
        { class: "field" },
        h("legend", {}, t("new.cycles")),
        h("p", { class: "help", id: "cycles-help" }, t("new.cycles_help")),
        usable.map((c) => {
          const id = `cycle-${c.ref.replace(/[^A-Za-z0-9]/g, "_")}`;
          const inWorkspace = taken.get(c.ref);
          return h(
            "div",
            { class: "option cycle-option" },
            h("input", { type: "checkbox", id, value: c.ref, name: "cycles", disabled: Boolean(inWorkspace), "aria-describedby": `${id}-d` }),
            h(
              "label",
              { for: id },
              h("strong", {}, refLabel(c.ref)),
              " — ",
              c.title,
            ),
            h(
              "span",
              { class: "muted small", id: `${id}-d` },
              " ",
              t("due", { date: day(c.due_on) }),
              inWorkspace ? [" · ", h("a", { href: `#/w/${inWorkspace}` }, t("new.taken", { id: inWorkspace }))] : null,
            ),
          );
        }),
      ),
    );
  }

  const formEl = h(
    "form",
    {
      class: "card",
      onsubmit: async (event) => {
        event.preventDefault();
        replace(errorBox);
        const chosen = [...cyclesBox.querySelectorAll("input[name=cycles]:checked")].map((i) => i.value);
        if (!chosen.length) {
          replace(errorBox, h("p", { class: "alert error" }, t("new.choose")));
          cyclesBox.querySelector("input[name=cycles]:not(:disabled)")?.focus();
          return;
        }
        create.disabled = true;
        try {
          const workspace = await api.post("workspaces", {
            party,
            cycles: chosen,
            title: title.value.trim() || null,
            carry_forward: carry.checked,
          });
          announce(t("new.created"));
          location.hash = `#/w/${workspace.id}`;
        } catch (error) {
          replace(errorBox, problemNode(error, { intro: t("new.failed") }));
        } finally {
          create.disabled = false;
        }
      },
    },
    partyControl
      ? h("div", { class: "field" }, h("label", { for: "party" }, t("new.party")), partyControl)
      : h("p", {}, t("new.for_party", { party })),
    cyclesBox,
    h("div", { class: "field" }, h("label", { for: "ws-title" }, t("new.title_label")), title),
    h("div", { class: "option" }, carry, h("label", { for: "ws-carry" }, t("new.carry"))),
    errorBox,
    h("p", {}, create, " ", h("a", { href: "#/", class: "btn quiet" }, t("cancel"))),
  );
  page.append(h("p", { class: "crumbs" }, h("a", { href: "#/" }, t("nav.home"))), h("h1", {}, t("new.heading")), formEl, body);
  if (!party && !session.isAdmin) {
    ctx.show(h("div", {}, h("h1", {}, t("new.heading")), h("p", {}, t("new.notfocal"))), { title: t("new.heading") });
    return;
  }
  await load();
  ctx.show(page, { title: t("new.heading") });
}

// --- start -----------------------------------------------------------------------------------

document.getElementById("skip").addEventListener("click", (event) => {
  event.preventDefault();
  focusElement(main.querySelector("h1") || main);
});
window.addEventListener("hashchange", route);
renderShell();
route();
