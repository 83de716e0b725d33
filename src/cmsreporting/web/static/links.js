// Pages reached from an e-mail's link, and the request for one: accept an invitation (choose a
// password), set a new password, ask for a reset link. They work signed out.

import { ApiError, api } from "./api.js";
import { h, replace } from "./dom.js";
import { t } from "./i18n.js";
import { problemNode } from "./shared.js";

/** The paths these pages answer, for the router (no sign-in needed). */
export const PUBLIC_PATHS = [/^\/invitation\/[^/]+$/, /^\/reset\/[^/]+$/, /^\/forgot$/];

function passwordField(id, label) {
  const input = h("input", {
    id,
    name: id,
    type: "password",
    autocomplete: "new-password",
    required: true,
    minlength: 10,
    maxlength: 256,
    "aria-describedby": `${id}-help link-error`,
  });
  const field = h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    input,
    h("p", { id: `${id}-help`, class: "help" }, t("link.password_help")),
  );
  return { input, field };
}

/** Why a link or a password was refused, in the user's words where the API names the field. */
function refusal(error) {
  if (error instanceof ApiError && error.status === 422) {
    const where = error.errors.map((e) => e.pointer);
    if (where.includes("/token")) return h("p", { class: "alert error", role: "alert" }, t("link.gone"), " ", h("a", { href: "#/forgot" }, t("link.ask_again")));
    if (where.includes("/new_password")) {
      const detail = error.errors.find((e) => e.pointer === "/new_password").detail;
      return h("p", { class: "alert error", role: "alert" }, t("link.weak"), " ", detail);
    }
  }
  return problemNode(error);
}

function linkPage(ctx, { token, purpose }) {
  const errorBox = h("div", { id: "link-error", "aria-live": "assertive" });
  const first = passwordField("new-password", t("link.new_password"));
  const second = passwordField("new-password-again", t("link.again"));
  const name = h("input", { id: "display-name", name: "display-name", autocomplete: "name", maxlength: 200 });
  const button = h("button", { type: "submit", class: "btn primary" }, t(`link.${purpose}_submit`));
  const form = h(
    "form",
    {
      class: "card narrow",
      onsubmit: async (event) => {
        event.preventDefault();
        replace(errorBox);
        if (first.input.value !== second.input.value) {
          replace(errorBox, h("p", { class: "alert error", role: "alert" }, t("link.mismatch")));
          second.input.focus();
          return;
        }
        button.disabled = true;
        try {
          const body = { token, new_password: first.input.value };
          if (purpose === "invitation" && name.value.trim()) body.display_name = name.value.trim();
          const path = purpose === "invitation" ? "invitations/accept" : "auth/password-reset/confirm";
          const done = await api.post(path, body, { token: null });
          ctx.show(
            h(
              "div",
              { class: "card narrow", id: "link-done" },
              h("h1", {}, t(`link.${purpose}_done`)),
              h("p", {}, t("link.signin_as", { name: done.name, email: done.email || done.name })),
              h("p", {}, h("a", { class: "btn primary", href: "#/signin" }, t("signin.submit"))),
            ),
            { title: t(`link.${purpose}_done`) },
          );
        } catch (error) {
          replace(errorBox, refusal(error));
          first.input.focus();
        } finally {
          button.disabled = false;
        }
      },
    },
    h("h1", {}, t(`link.${purpose}_title`)),
    h("p", {}, t(`link.${purpose}_intro`)),
    purpose === "invitation" ? h("div", { class: "field" }, h("label", { for: "display-name" }, t("link.display_name")), name) : null,
    first.field,
    second.field,
    errorBox,
    h("p", {}, button),
  );
  ctx.show(form, { title: t(`link.${purpose}_title`) });
}

export function invitationView(ctx, token) {
  linkPage(ctx, { token, purpose: "invitation" });
}

export function resetView(ctx, token) {
  linkPage(ctx, { token, purpose: "reset" });
}

export function forgotView(ctx) {
  const errorBox = h("div", { id: "forgot-error", "aria-live": "assertive" });
  const email = h("input", {
    id: "forgot-email",
    name: "email",
    type: "email",
    autocomplete: "email",
    required: true,
    maxlength: 254,
    "aria-describedby": "forgot-error",
  });
  const button = h("button", { type: "submit", class: "btn primary" }, t("forgot.submit"));
  const form = h(
    "form",
    {
      class: "card narrow",
      onsubmit: async (event) => {
        event.preventDefault();
        replace(errorBox);
        button.disabled = true;
        try {
          await api.post("auth/password-reset", { email: email.value.trim() }, { token: null });
          replace(errorBox, h("p", { class: "alert", role: "status", id: "forgot-sent" }, t("forgot.sent")));
        } catch (error) {
          const bad = error instanceof ApiError && error.status === 422;
          replace(errorBox, bad ? h("p", { class: "alert error", role: "alert" }, t("forgot.bad_address")) : problemNode(error));
          email.focus();
        } finally {
          button.disabled = false;
        }
      },
    },
    h("h1", {}, t("forgot.title")),
    h("p", {}, t("forgot.intro")),
    h("div", { class: "field" }, h("label", { for: "forgot-email" }, t("forgot.email")), email),
    errorBox,
    h("p", {}, button),
    h("p", {}, h("a", { href: "#/signin" }, t("forgot.back"))),
  );
  ctx.show(form, { title: t("forgot.title") });
}
