// A REST client's day with the TIA platform, written against the types that
// openapi-typescript generated from the running gateway's /openapi.json
// (generated/tia.ts, never edited) and called with openapi-fetch. The Go test
// services/embedded/clienttest starts the platform, type-checks this file
// with tsc and runs it with tsx; the environment carries the base URL and
// the demo actors' tokens.
//
// Every step checks what a client relies on and throws when it does not
// hold; the test fails on a non-zero exit.
import { Ajv2020 } from "ajv/dist/2020.js";
import formats from "ajv-formats";
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./generated/tia.js";

type Status = components["schemas"]["google.rpc.Status"];
type BadRequest = components["schemas"]["google.rpc.BadRequest"];

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

const baseUrl = env("TIA_BASE_URL");
const orgNumber = env("TIA_ORG_NUMBER");
const today = env("TIA_TODAY");

// JSON clients: operations that can also answer CSV or XML are typed by
// their JSON representation.
function clientFor(token?: string): Client<paths, "application/json"> {
  return createClient<paths, "application/json">({ baseUrl, headers: token ? { Authorization: `Bearer ${token}` } : {} });
}

const anyone = clientFor();
const organiser = clientFor(env("TIA_TOKEN_ORGANISER"));
const board = clientFor(env("TIA_TOKEN_COUNTY_BOARD"));
const seeker = clientFor(env("TIA_TOKEN_ASYLUM_SEEKER"));

function check(ok: unknown, what: string, detail?: unknown): asserts ok {
  if (!ok) throw new Error(`${what}${detail === undefined ? "" : ": " + JSON.stringify(detail)}`);
}

function addDays(date: string, days: number): string {
  const d = new Date(date + "T00:00:00Z");
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

// No JSON answer carries null: unset timestamps and messages are left out.
function noNulls(value: unknown, path = "$"): void {
  check(value !== null, `null at ${path}`);
  if (Array.isArray(value)) value.forEach((v, i) => noNulls(v, `${path}[${i}]`));
  else if (typeof value === "object") for (const [k, v] of Object.entries(value as object)) noNulls(v, `${path}.${k}`);
}

// Answers match the document's schemas (JSON Schema 2020-12, with formats):
// the types above are only as good as the document is true.
const ajv = new Ajv2020({ strict: false, allErrors: true });
(formats as unknown as (a: Ajv2020) => void)(ajv);
for (const f of ["int32", "int64", "uint32", "uint64", "double", "float", "byte"]) ajv.addFormat(f, true);
ajv.addSchema(await (await fetch(`${baseUrl}/openapi.json`)).json(), "tia");
function conforms(schema: keyof components["schemas"], value: unknown): void {
  const validate = ajv.getSchema(`tia#/components/schemas/${schema}`);
  check(validate, `no schema ${schema}`);
  check(validate(value), `the answer does not match ${schema}: ${ajv.errorsText(validate.errors)}`, value);
}

function step(what: string, detail: string): void {
  console.log(`ok ${what}: ${detail}`);
}

// Reference data, public.
const kommun = await anyone.GET("/v1/kommuner/{kommun}", { params: { path: { kommun: "0180" } } });
check(kommun.data?.displayName === "Stockholm" && kommun.data.lanCode === "01", "kommun 0180", kommun.data);
const lan = await anyone.GET("/v1/lan/{lan}", { params: { path: { lan: "01" } } });
check(lan.data?.displayName === "Stockholms län", "län 01", lan.data);
conforms("Kommun", kommun.data);
conforms("Lan", lan.data);
step("reference data", `${kommun.data.displayName} in ${lan.data.displayName} at ${kommun.data.position.latitude}° N`);

// The organiser registers itself.
const registered = await organiser.POST("/v1/organisers", {
  body: {
    orgNumber,
    displayName: "Studieförbundet Exempel",
    kind: "ORGANISER_KIND_STUDY_ASSOCIATION",
    contacts: [{ role: "CONTACT_ROLE_PARTICIPANTS", displayName: "Deltagarkontakt", phone: "010-123 45 67" }],
  },
});
check(registered.data?.name === `organisers/${orgNumber}`, "register organiser", registered.error);
noNulls(registered.data);
conforms("Organiser", registered.data);
step("organiser", registered.data.name);

// The county board signs an agreement, so the organiser may issue certificates.
const agreement = await board.POST("/v1/lan/{lan}/agreements", {
  params: { path: { lan: "01" } },
  body: { organiser: registered.data.name, startDate: today, endDate: addDays(today, 300) },
});
check(agreement.data?.name, "agreement", agreement.error);
conforms("Agreement", agreement.data);
step("agreement", agreement.data.name);

// A bad activity is refused naming the field as the client wrote it.
const refused = await organiser.POST("/v1/organisers/{organiser}/activities", {
  params: { path: { organiser: orgNumber } },
  body: { title: "Svenska", kommunCode: "01", focus: ["FOCUS_SWEDISH"], capacity: 20, startDate: today, endDate: addDays(today, 100) },
});
check(refused.response.status === 400 && refused.error, "bad activity accepted", refused.data);
const status: Status = refused.error;
conforms("google.rpc.Status", status);
const badRequest = status.details?.find(
  (d): d is BadRequest => d["@type"] === "type.googleapis.com/google.rpc.BadRequest",
);
const fields = badRequest?.fieldViolations?.map((v) => v.field) ?? [];
check(fields.some((f) => f?.endsWith("kommunCode")), "the 400 does not name kommunCode", status);
step("bad activity", `400 naming ${fields.join(", ")}`);

// The activity.
const activity = await organiser.POST("/v1/organisers/{organiser}/activities", {
  params: { path: { organiser: orgNumber } },
  body: {
    title: "Svenska för nybörjare",
    kommunCode: "0180",
    focus: ["FOCUS_SWEDISH"],
    capacity: 20,
    startDate: today,
    endDate: addDays(today, 200),
    fundingBasis: "FUNDING_BASIS_AGREEMENT",
    agreement: agreement.data.name,
    languages: ["sv", "ar"],
  },
});
check(activity.data?.name && activity.data.status === "ACTIVITY_STATUS_ONGOING", "activity", activity.error ?? activity.data);
noNulls(activity.data);
conforms("Activity", activity.data);
check(!("updateTime" in activity.data) || typeof activity.data.updateTime === "string", "updateTime", activity.data);
step("activity", activity.data.name);
const [, , , activityId] = activity.data.name.split("/");

// Anyone finds it in the public catalogue, without a token.
const found = await anyone.GET("/v1/organisers/{organiser}/activities/{activity}", {
  params: { path: { organiser: orgNumber, activity: activityId } },
});
check(found.data?.title === "Svenska för nybörjare", "public activity", found.error);

// A certificate for the asylum seeker.
const certificate = await organiser.POST("/v1/organisers/{organiser}/activities/{activity}/certificates", {
  params: { path: { organiser: orgNumber, activity: activityId } },
  body: { dossierNumber: env("TIA_DOSSIER_NUMBER") },
});
check(certificate.data?.name && certificate.data.validFrom === today, "certificate", certificate.error ?? certificate.data);
noNulls(certificate.data);
conforms("Certificate", certificate.data);
step("certificate", `${certificate.data.name}, valid ${certificate.data.validFrom}..${certificate.data.validTo}`);

// The asylum seeker claims travel compensation for today's trip.
const claim = await seeker.POST("/v1/claims", {
  params: { query: { requestId: "client-scenario-1" } },
  body: {
    tripDate: today,
    fromKommunCode: "0180",
    toKommunCode: "0180",
    activity: activity.data.name,
    certificate: certificate.data.name,
    distanceKm: 7.5,
    costOre: "4200",
    ticketType: "TICKET_TYPE_SINGLE",
  },
});
check(claim.data?.name && claim.data.state === "CLAIM_STATE_APPROVED", "claim", claim.error ?? claim.data);
noNulls(claim.data);
conforms("Claim", claim.data);
const claimName = claim.data.name;
step("claim", `${claimName} ${claim.data.state}`);
const own = await seeker.GET("/v1/claims");
check(own.data?.claims?.some((c) => c.name === claimName), "own claims", own.data);

// The county board reads its inbox (`me`): the activity that started today
// reached it through the events.
let inbox: components["schemas"]["Message"][] = [];
for (let i = 0; i < 150 && inbox.length === 0; i++) {
  const r = await board.GET("/v1/recipients/{recipient}/messages", { params: { path: { recipient: "me" } } });
  check(r.data, "inbox", r.error);
  conforms("ListMessagesResponse", r.data);
  inbox = r.data.messages ?? [];
  if (inbox.length === 0) await new Promise((res) => setTimeout(res, 100));
}
check(inbox.length > 0, "the county board's inbox stayed empty");
noNulls(inbox);
step("inbox", `${inbox.length} message(s), first: ${inbox[0].topic}`);

// A CSV download of the activities, as a spreadsheet program would get it.
const spreadsheet = createClient<paths, "text/csv">({ baseUrl, headers: { Authorization: `Bearer ${env("TIA_TOKEN_COUNTY_BOARD")}` } });
const csv = await spreadsheet.GET("/v1/organisers/{organiser}/activities", {
  params: { path: { organiser: orgNumber }, query: { format: "csv" } },
  parseAs: "text",
});
check(csv.response.status === 200, "CSV download", csv.error);
check(csv.response.headers.get("content-type")?.startsWith("text/csv"), "CSV media type", csv.response.headers.get("content-type"));
check(typeof csv.data === "string" && csv.data.includes("Svenska för nybörjare"), "CSV rows", csv.data);
const lines = csv.data.trim().split(/\r?\n/);
check(lines.length === 2, "CSV has a header and one row", lines);
step("CSV", `${lines.length} lines, ${csv.response.headers.get("content-disposition") ?? "no file name"}`);

console.log("scenario passed");
