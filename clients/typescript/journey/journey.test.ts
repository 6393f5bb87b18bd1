/**
 * A frontend's journey through the API with the typed client, under `tsc --strict`: a schema change
 * that breaks a frontend breaks this file's type check (or its run).
 *
 * Run by tests/client/test_typescript_journey.py against a live test server:
 *   STACKPRO_API_URL     the server's origin
 *   STACKPRO_MAILBOX_URL GET ?to=<address> -> {"body": "<text of the last email to it>"} (the test's
 *                        outbox: the links carry the tokens a user would click)
 */
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  createStackProClient,
  type Schemas,
  StackProApiError,
  type StackProClient,
  unwrap,
} from "../src/index.js";

const API_URL = required("STACKPRO_API_URL");
const MAILBOX_URL = required("STACKPRO_MAILBOX_URL");
const PASSWORD = "a-Long-journey-passw0rd";

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new Error(`${name} is not set`);
  }
  return value;
}

/** The `token` query parameter of the link in the last email sent to `address`. */
async function tokenFromLastEmail(address: string): Promise<string> {
  const response = await fetch(`${MAILBOX_URL}?to=${encodeURIComponent(address)}`);
  assert.equal(response.status, 200, `no email to ${address}`);
  const { body } = (await response.json()) as { body: string };
  const link = body.match(/https?:\/\/\S+[?&]token=\S+/)?.[0];
  assert.ok(link, `no link with a token in: ${body}`);
  const token = new URL(link).searchParams.get("token");
  assert.ok(token);
  return token;
}

async function signUp(email: string, name: string): Promise<StackProClient> {
  const client = createStackProClient({ baseUrl: API_URL });
  const user: Schemas["User"] = unwrap(
    await client.api.POST("/api/v1/auth/register/", { body: { email, password: PASSWORD, name } }),
  );
  assert.equal(user.email_verified, false);
  const verified = unwrap(
    await client.api.POST("/api/v1/auth/verify-email/", { body: { token: await tokenFromLastEmail(email) } }),
  );
  assert.equal(verified.email_verified, true);
  await client.login(email, PASSWORD);
  return client;
}

test("a frontend's journey through the API", async () => {
  const suffix = Date.now().toString(36);
  const ownerEmail = `owner-${suffix}@example.com`;
  const memberEmail = `member-${suffix}@example.com`;

  // Register, verify, log in; a wrong password is a typed error with a stable code.
  const owner = await signUp(ownerEmail, "Olivia Owner");
  const wrong = await owner.api.POST("/api/v1/auth/token/", { body: { email: ownerEmail, password: "nope" } });
  assert.ok(wrong.error);
  assert.equal(wrong.response.status, 401);
  assert.equal(typeof wrong.error.code, "string");

  // Profile.
  const me = unwrap(await owner.api.GET("/api/v1/auth/me/"));
  assert.equal(me.email, ownerEmail);
  assert.equal(me.pending_email, "");
  const renamed = unwrap(await owner.api.PATCH("/api/v1/auth/me/", { body: { name: "Olivia O." } }));
  assert.equal(renamed.name, "Olivia O.");

  // Plans (public) and the subscription's limits.
  const plans = unwrap(await owner.api.GET("/api/v1/billing/plans/"));
  assert.ok(plans.some((plan) => plan.code === "free"));
  for (const plan of plans) {
    assert.equal(typeof plan.limits.max_projects, "number");
    if (plan.price !== null) {
      assert.equal(typeof plan.price.currency, "string");
    }
  }
  const subscription = unwrap(await owner.api.GET("/api/v1/billing/subscription/"));
  assert.equal(subscription.limits.projects.exceeded, false);
  assert.equal(subscription.entitlements.plan_code, subscription.plan.code);

  // Project CRUD; pages always carry next and previous.
  const project = unwrap(
    await owner.api.POST("/api/v1/projects/", { body: { name: "Journey", description: "From TypeScript" } }),
  );
  const page = unwrap(await owner.api.GET("/api/v1/projects/", { params: { query: { limit: 10 } } }));
  assert.ok(page.results.some((p) => p.id === project.id));
  assert.equal(page.previous, null);
  const projectPath = { params: { path: { project_id: project.id } } };
  assert.equal(unwrap(await owner.api.GET("/api/v1/projects/{project_id}/", projectPath)).name, "Journey");
  const updated = unwrap(
    await owner.api.PATCH("/api/v1/projects/{project_id}/", { ...projectPath, body: { description: "Edited" } }),
  );
  assert.equal(updated.description, "Edited");
  const doomed = unwrap(await owner.api.POST("/api/v1/projects/", { body: { name: "Doomed" } }));
  const deleted = await owner.api.DELETE("/api/v1/projects/{project_id}/", {
    params: { path: { project_id: doomed.id } },
  });
  assert.equal(deleted.response.status, 204);
  const gone = await owner.api.GET("/api/v1/projects/{project_id}/", { params: { path: { project_id: doomed.id } } });
  assert.equal(gone.error?.code, "not_found");

  // Members and invitations: invite, the invitee signs up and accepts, the owner changes the role.
  const member = await signUp(memberEmail, "Max Member");
  const invitation = unwrap(
    await owner.api.POST("/api/v1/projects/{project_id}/members/", {
      ...projectPath,
      body: { email: memberEmail, role: "viewer" },
    }),
  );
  assert.equal(invitation.role, "viewer");
  const pending = unwrap(await owner.api.GET("/api/v1/projects/{project_id}/invitations/", projectPath));
  assert.deepEqual(
    pending.results.map((i) => i.email),
    [memberEmail],
  );
  const joined = unwrap(
    await member.api.POST("/api/v1/invitations/accept/", { body: { token: await tokenFromLastEmail(memberEmail) } }),
  );
  assert.equal(joined.id, project.id);
  const members = unwrap(await owner.api.GET("/api/v1/projects/{project_id}/members/", projectPath));
  const membership = members.results.find((m) => m.user.email === memberEmail);
  assert.ok(membership);
  const promoted = unwrap(
    await owner.api.PATCH("/api/v1/projects/{project_id}/members/{member_id}/", {
      params: { path: { project_id: project.id, member_id: membership.id } },
      body: { role: "editor" },
    }),
  );
  assert.equal(promoted.role, "editor");

  // Direct upload: start, post the form to S3 as a browser would, complete, then download.
  const content = "hello from the journey\n";
  const started = unwrap(
    await member.api.POST("/api/v1/projects/{project_id}/files/uploads/", {
      ...projectPath,
      body: { name: "journey.txt", size: content.length, content_type: "text/plain" },
    }),
  );
  assert.equal(started.file.status, "pending");
  const form = new FormData();
  for (const [name, value] of Object.entries(started.upload.fields)) {
    form.append(name, value);
  }
  form.append("file", new Blob([content], { type: "text/plain" }), "journey.txt");
  const s3 = await fetch(started.upload.url, { method: "POST", body: form });
  assert.ok(s3.status === 204 || s3.status === 201 || s3.status === 200, `S3 answered ${s3.status}`);
  const filePath = { params: { path: { project_id: project.id, file_id: started.file.id } } };
  const completed = unwrap(await member.api.POST("/api/v1/projects/{project_id}/files/{file_id}/complete/", filePath));
  assert.equal(completed.status, "ready");
  assert.equal(completed.uploaded_by?.name, "Max Member");
  const files = unwrap(await owner.api.GET("/api/v1/projects/{project_id}/files/", projectPath));
  assert.deepEqual(
    files.results.map((f) => f.name),
    ["journey.txt"],
  );
  const download = await owner.api.GET("/api/v1/projects/{project_id}/files/{file_id}/download/", {
    ...filePath,
    redirect: "manual",
    parseAs: "text",
  });
  assert.equal(download.response.status, 302);
  const signed = download.response.headers.get("Location");
  assert.ok(signed);
  assert.equal(await (await fetch(signed)).text(), content);

  // Notifications (the invitation's acceptance told the owner) and preferences.
  const unread = unwrap(await owner.api.GET("/api/v1/notifications/unread-count/"));
  assert.ok(unread.count >= 1);
  const inbox = unwrap(await owner.api.GET("/api/v1/notifications/", { params: { query: { unread: true } } }));
  const first = inbox.results[0];
  assert.ok(first);
  const read = unwrap(
    await owner.api.POST("/api/v1/notifications/{id}/read/", { params: { path: { id: first.id } } }),
  );
  assert.equal(read.is_read, true);
  unwrap(await owner.api.POST("/api/v1/notifications/read-all/", { body: {} }));
  const prefs = unwrap(await owner.api.GET("/api/v1/notifications/preferences/"));
  assert.equal(prefs.categories.security.locked, true);
  const changed = unwrap(
    await owner.api.PUT("/api/v1/notifications/preferences/", {
      body: { categories: { product: { email: false } }, digest_frequency: "weekly" },
    }),
  );
  assert.equal(changed.categories.product.email, false);
  assert.equal(changed.categories.product.in_app, prefs.categories.product.in_app);
  assert.equal(changed.digest_frequency, "weekly");
  const locked = await owner.api.PUT("/api/v1/notifications/preferences/", {
    body: { categories: { security: { email: false } } },
  });
  assert.equal(locked.error?.code, "preference_locked");

  // The assistant: a conversation and a message.
  const conversation = unwrap(
    await owner.api.POST("/api/v1/assistant/conversations/", { body: { title: "Journey chat" } }),
  );
  const reply = unwrap(
    await owner.api.POST("/api/v1/assistant/conversations/{conversation_id}/messages/", {
      params: { path: { conversation_id: conversation.id } },
      body: { content: "Hello?" },
    }),
  );
  assert.equal(reply.role, "assistant");
  assert.ok(reply.content.length > 0);
  assert.ok(reply.usage.output_tokens >= 0);

  // Refresh: an expired access token is refreshed once (the refresh token rotates) and the call
  // sent again, invisibly; the previous refresh token no longer works.
  const before = owner.tokens.get();
  assert.ok(before);
  owner.tokens.set({ access: "expired.or.garbage", refresh: before.refresh });
  const again = unwrap(await owner.api.GET("/api/v1/auth/me/"));
  assert.equal(again.email, ownerEmail);
  const after = owner.tokens.get();
  assert.ok(after);
  assert.notEqual(after.refresh, before.refresh);
  const stale = await owner.api.POST("/api/v1/auth/token/refresh/", { body: { refresh: before.refresh } });
  assert.equal(stale.response.status, 401);

  // Log out: the refresh token is revoked.
  const lastRefresh = after.refresh;
  await owner.logout();
  assert.equal(owner.tokens.get(), null);
  const revoked = await owner.api.POST("/api/v1/auth/token/refresh/", { body: { refresh: lastRefresh } });
  assert.equal(revoked.response.status, 401);
  try {
    unwrap(revoked);
    assert.fail("unwrap should throw");
  } catch (error) {
    assert.ok(error instanceof StackProApiError);
    assert.equal(error.status, 401);
    assert.equal(typeof error.code, "string");
  }
});
