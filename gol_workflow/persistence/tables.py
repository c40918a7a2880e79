"""The database schema (SQLAlchemy Core). Alembic migrations create and upgrade it."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from .types import JsonText, UtcDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

# An autoincrementing 64-bit key that SQLite also autoincrements.
BigId = BigInteger().with_variant(Integer(), "sqlite")

process_versions = Table(
    "process_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("process_id", String(255), nullable=False),
    Column("version", Integer, nullable=False),
    Column("name", String(255), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("main_file", String(255), nullable=False),
    Column("files", JsonText, nullable=False),  # {file name: text} of BPMN, DMN and forms
    Column("deployed_by", String(255), nullable=False),
    Column("deployed_at", UtcDateTime, nullable=False),
    Column("note", Text, nullable=True),  # the analyst's version note
    Column("scenarios", JsonText, nullable=True),  # the scenario run at deploy time: passed, failed, failures
    UniqueConstraint("process_id", "version"),
)

# A process diagram saved from the modeler and not deployed: the analyst's work in progress.
process_drafts = Table(
    "process_drafts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("process_id", String(255), nullable=False, index=True),
    Column("main_file", String(255), nullable=False),
    Column("content", Text, nullable=False),  # the BPMN text
    Column("note", Text, nullable=False),
    Column("base_version", Integer, nullable=True),  # the deployed version it was drawn from
    Column("author", String(255), nullable=False),
    Column("saved_at", UtcDateTime, nullable=False),
    Column("scenarios", JsonText, nullable=True),  # the last scenario run on this draft
)

instances = Table(
    "instances",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("process_version_id", Integer, ForeignKey("process_versions.id"), nullable=False),
    Column("process_id", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("row_version", Integer, nullable=False, default=1),
    Column("state", Text, nullable=False),
    Column("next_due_at", UtcDateTime, nullable=True),
    Column("zone", String(64), nullable=True),
    Column("beneficiary_name", String(255), nullable=True),
    Column("codice_fiscale", String(16), nullable=True),
    Column("case_manager", String(255), nullable=True),
    Column("specialist_services", JsonText, nullable=True),
    Column("current_step", String(255), nullable=True),
    Column("error", JsonText, nullable=True),
    Column("retry_count", Integer, nullable=False, default=0),
    Column("suspended_status", String(16), nullable=True),
    Column("started_by", String(255), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
    # A scheduler's lease on the due work it claimed, and how often that work was attempted without success.
    Column("claimed_until", UtcDateTime, nullable=True),
    Column("due_attempts", Integer, nullable=False, default=0, server_default="0"),
    # `<process>:<codice fiscale>` while a case opened by a person is open, NULL otherwise (or
    # when an administrator opened a second one on purpose): at most one open case per person.
    Column("open_case_key", String(300), nullable=True),
    # When a closed instance's state and audit rows moved to the archive tables (its `state` is '' then).
    Column("archived_at", UtcDateTime, nullable=True),
    Index("ix_instances_next_due_at", "next_due_at"),
    Index("ix_instances_claimed_until", "claimed_until"),
    Index("ix_instances_status_started_at", "status", "started_at"),
    Index("ix_instances_process_id_started_at", "process_id", "started_at"),
    Index("ix_instances_zone_started_at", "zone", "started_at"),
    Index("ix_instances_zone_status_started_at", "zone", "status", "started_at"),  # a zone's counts per status
    Index("ix_instances_codice_fiscale", "codice_fiscale"),
    Index("ix_instances_case_manager", "case_manager"),
    Index("ix_instances_started_at", "started_at"),
    Index("ix_instances_process_version_id", "process_version_id"),
    Index("ux_instances_open_case_key", "open_case_key", unique=True),
    # Part of a name across every instance (admin search): a trigram index where pg_trgm may be
    # created, else (migration 0023) a btree on lower(name) that serves prefixes only.
    Index("ix_instances_beneficiary_name_trgm", "beneficiary_name", postgresql_using="gin",
          postgresql_ops={"beneficiary_name": "gin_trgm_ops"}),
    # Closed instances not yet archived, oldest closure first: what the archive job works off.
    Index("ix_instances_archivable", "ended_at", postgresql_where=text("archived_at IS NULL AND ended_at IS NOT NULL"),
          sqlite_where=text("archived_at IS NULL AND ended_at IS NOT NULL")),
)

# An instance without its (large) serialised state: what lists, checks and locks read.
INSTANCE_HEADER = [c for c in instances.c if c.name != "state"]

tasks = Table(
    "tasks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("instance_id", String(36), ForeignKey("instances.id", ondelete="CASCADE"), nullable=False),
    Column("process_id", String(255), nullable=False),
    Column("element_id", String(255), nullable=False),
    Column("name", String(255), nullable=False),
    Column("lane", String(255), nullable=True),
    Column("form", String(255), nullable=True),
    Column("zone", String(64), nullable=True),
    Column("case_id", String(36), nullable=True),
    Column("beneficiary_name", String(255), nullable=True),
    Column("codice_fiscale", String(16), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("due_at", UtcDateTime, nullable=True),
    Column("assignee", String(255), nullable=True),
    # An equipe participant's own task (centro_impiego, servizio_sociale or a specialist service id):
    # only that service's operators work it. Empty: anyone of the lane.
    Column("participant", String(64), nullable=True),
    Column("draft", JsonText, nullable=True),
    # Who the task is for, as `,a,b,` text: its lane's roles with its own candidate groups, and
    # the people it names (NULL roles: a task stored before they were, read by its lane).
    Column("roles", String(1000), nullable=True),
    Column("users", String(1000), nullable=True),
    Index("ix_tasks_instance_id", "instance_id"),
    Index("ix_tasks_zone_created_at", "zone", "created_at"),
    Index("ix_tasks_zone_due_at", "zone", "due_at"),  # the inbox sorted by due date
    Index("ix_tasks_created_at_id", "created_at", "id"),  # the administrators' inbox (every zone)
    # Queue counts (also under a name or codice fiscale search) read only this index, never the rows.
    Index("ix_tasks_inbox_counts", "zone", "lane", "assignee", "due_at", "beneficiary_name", "codice_fiscale"),
    Index("ix_tasks_case_id", "case_id"),
    Index("ix_tasks_assignee", "assignee"),
    # When the next task falls overdue (the digest's next moment); overdue cases from the index alone.
    Index("ix_tasks_due_at_case_id", "due_at", "case_id"),
    # The few tasks that name a person: the visibility rule's other arm reads them alone (inbox, badge).
    Index("ix_tasks_named", "users", postgresql_where=text("users IS NOT NULL"),
          sqlite_where=text("users IS NOT NULL")),
)

# The columns the case list filters and sorts on, carried in its indexes (PostgreSQL).
CASE_LIST_COLUMNS = ["status", "current_step", "opened_at", "path_end_at", "equipe_at", "beneficiary_name",
                     "specialist_services"]

# The case record: one row per case (id = the instance id), its typed facts kept by the step
# that changes them (see services/case_records.py). Lists of cases read only this table.
cases = Table(
    "cases",
    metadata,
    Column("id", String(36), ForeignKey("instances.id", ondelete="CASCADE"), primary_key=True),
    Column("process_id", String(255), nullable=False),
    Column("status", String(16), nullable=False),  # the instance's status
    Column("current_step", String(255), nullable=True),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),  # when a fact last changed
    Column("ended_at", UtcDateTime, nullable=True),
    Column("zone", String(64), nullable=True),
    Column("beneficiary_name", String(255), nullable=True),
    Column("codice_fiscale", String(16), nullable=True),
    Column("birth_date", Date, nullable=True),
    Column("profiled_at", UtcDateTime, nullable=True),
    Column("complex_needs", Boolean, nullable=True),
    Column("percorso", Integer, nullable=True),
    Column("known_to_social_services", Boolean, nullable=True),
    Column("particular_needs", Boolean, nullable=True),
    Column("specialist_services", JsonText, nullable=True),
    Column("equipe_at", UtcDateTime, nullable=True),
    Column("decision", String(64), nullable=True),
    Column("measures", JsonText, nullable=True),
    Column("equipe_participants", JsonText, nullable=True),  # who took part in the latest final scheda
    Column("equipe_confirmed_by", JsonText, nullable=True),  # who confirmed its decision
    Column("first_appointment_at", UtcDateTime, nullable=True),
    Column("first_appointment_place", String(255), nullable=True),
    Column("case_manager", String(255), nullable=True),
    Column("path_start_date", Date, nullable=True),
    Column("path_end_at", UtcDateTime, nullable=True),
    Column("monitorings", Integer, nullable=False, default=0),
    Column("last_monitoring_date", Date, nullable=True),
    Column("substantial_changes", Integer, nullable=False, default=0),
    Column("last_substantial_change_date", Date, nullable=True),
    Column("last_substantial_change", String(255), nullable=True),
    Column("final_monitoring_date", Date, nullable=True),
    Column("outcome", String(64), nullable=True),
    # A zone's or a case manager's list, any filter, sort or page, reads only these (migration 0009).
    Index("ix_cases_zone_list", "zone", "updated_at", "id", postgresql_include=[*CASE_LIST_COLUMNS, "case_manager"]),
    Index("ix_cases_case_manager_list", "case_manager", "updated_at", "id",
          postgresql_include=[*CASE_LIST_COLUMNS, "zone"]),
    # What the indicators read (processes/README.md, «Indicatori»): the poverty/ADI condition at
    # profiling, the kind of path the equipe set, the joint first interview and who took part.
    Column("poverty_condition", String(32), nullable=True),
    Column("social_inclusion_path", Boolean, nullable=True),
    Column("work_path", Boolean, nullable=True),
    Column("joint_interview", Boolean, nullable=True),
    Column("interview_participants", JsonText, nullable=True),
    # Retention (migration 0020): an administrator's legal hold stops the anonymisation of a closed
    # case; `anonymised_at` marks a case whose personal data retention has removed.
    Column("legal_hold", Boolean, nullable=False, default=False, server_default="0"),
    Column("legal_hold_reason", Text, nullable=True),
    Column("legal_hold_by", String(255), nullable=True),
    Column("legal_hold_at", UtcDateTime, nullable=True),
    Column("anonymised_at", UtcDateTime, nullable=True),
    Index("ix_cases_status_updated_at", "status", "updated_at"),
    Index("ix_cases_updated_at", "updated_at"),
    Index("ix_cases_codice_fiscale", "codice_fiscale"),
    Index("ix_cases_beneficiary_name", "beneficiary_name"),  # every zone's cases by name (administrators)
    # Part of a name across every zone (a plain index where pg_trgm is not available).
    Index("ix_cases_beneficiary_name_trgm", "beneficiary_name", postgresql_using="gin",
          postgresql_ops={"beneficiary_name": "gin_trgm_ops"}),
    Index("ix_cases_path_end_at", "path_end_at"),
    # The indicators read a zone's (or every zone's) cases by one date and count facts carried in
    # the index (`INCLUDE`, PostgreSQL): index-only scans of the period's entries. The same indexes
    # serve the case list sorted by opening or by equipe date.
    Index("ix_cases_zone_opened_at_facts", "zone", "opened_at", postgresql_include=[
        "process_id", "profiled_at", "equipe_at", "decision", "substantial_changes", "first_appointment_at",
        "path_start_date"]),
    Index("ix_cases_zone_equipe_at_facts", "zone", "equipe_at", postgresql_include=[
        "process_id", "decision", "poverty_condition", "social_inclusion_path", "work_path"]),
    Index("ix_cases_zone_path_start_facts", "zone", "path_start_date", postgresql_include=[
        "process_id", "joint_interview", "case_manager", "final_monitoring_date", "status"]),
    Index("ix_cases_zone_profiled_at_facts", "zone", "profiled_at", postgresql_include=[
        "process_id", "percorso", "decision", "substantial_changes", "equipe_at"]),
    Index("ix_cases_zone_final_monitoring_facts", "zone", "final_monitoring_date",
          postgresql_include=["process_id", "outcome"]),
)

# Placements during the path (tirocinio, job, social-inclusion placement, sheltered workshop),
# recorded on the case by its operators: what Pordenone's indicators count (seed 002).
placements = Table(
    "placements",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(36), ForeignKey("instances.id", ondelete="CASCADE"), nullable=False),
    Column("zone", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("sector", String(32), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=True),
    Column("recorded_by", String(255), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Index("ix_placements_case_id", "case_id"),
    Index("ix_placements_zone_start_facts", "zone", "start_date", postgresql_include=["kind", "case_id"]),
)

# Coordination and training meetings of the operators, one register per zone (seed 003).
operator_meetings = Table(
    "operator_meetings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("zone", String(64), nullable=False),
    Column("held_on", Date, nullable=False),
    Column("kind", String(32), nullable=False),  # coordinamento | formazione
    Column("topic", String(255), nullable=False),
    Column("participants", Integer, nullable=False),
    Column("recorded_by", String(255), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Index("ix_operator_meetings_zone_held_on", "zone", "held_on"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("instance_id", String(36), ForeignKey("instances.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("correlation", String(512), primary_key=True),
    Index("ix_subscriptions_name_correlation", "name", "correlation"),
)

pending_messages = Table(
    "pending_messages",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False),
    Column("correlation", String(512), nullable=False),
    Column("payload", JsonText, nullable=True),
    Column("sender_instance_id", String(36), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_pending_messages_correlation_name", "correlation", "name"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("action", String(64), nullable=False),
    Column("instance_id", String(36), nullable=True),
    Column("task_id", String(36), nullable=True),
    Column("element_id", String(255), nullable=True),
    Column("data", JsonText, nullable=True),  # sealed with the case's key when the case is a person's
    # The person's pseudonym: HMAC-SHA256 of the codice fiscale under the case's key (subject_keys).
    Column("subject", String(64), nullable=True),
    Index("ix_audit_events_instance_id_id", "instance_id", "id"),
    Index("ix_audit_events_subject", "subject"),
    Index("ix_audit_events_actor_at", "actor", "at"),
    Index("ix_audit_events_at", "at"),
    Index("ix_audit_events_task_id", "task_id"),
)

# The cold side of closed instances (`gol-workflow archive`): their serialised state and their
# audit rows, moved out of the tables every step writes; read back by the same repositories.
archived_states = Table(
    "archived_states",
    metadata,
    Column("instance_id", String(36), ForeignKey("instances.id", ondelete="CASCADE"), primary_key=True),
    Column("state", Text, nullable=False),
    Column("archived_at", UtcDateTime, nullable=False),
)

archived_audit_events = Table(
    "archived_audit_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("action", String(64), nullable=False),
    Column("instance_id", String(36), nullable=True),
    Column("task_id", String(36), nullable=True),
    Column("element_id", String(255), nullable=True),
    Column("data", JsonText, nullable=True),
    Column("subject", String(64), nullable=True),
    Index("ix_archived_audit_events_instance_id_id", "instance_id", "id"),
    Index("ix_archived_audit_events_subject", "subject"),
    Index("ix_archived_audit_events_task_id", "task_id"),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(150), nullable=False, unique=True),
    Column("full_name", String(255), nullable=True),
    Column("email", String(255), nullable=True),
    Column("password_hash", String(255), nullable=True),
    Column("role", String(32), nullable=False),
    Column("zones", JsonText, nullable=False),
    Column("services", JsonText, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_login_at", UtcDateTime, nullable=True),
    # How the person hears of new and overdue tasks: digest (daily, the default) | immediate | none.
    Column("notifications", String(16), nullable=False, server_default="digest"),
    # Accounts of the region's identity provider: its issuer and subject (never a password).
    Column("oidc_issuer", String(255), nullable=True),
    Column("oidc_subject", String(255), nullable=True),
    # Known through single sign-on but not yet given a role by an administrator (and not active).
    Column("pending", Boolean, nullable=False, default=False, server_default=false()),
    # The role and zones come from the provider's claims (and are taken back when the claims go).
    Column("access_from_claims", Boolean, nullable=False, default=False, server_default=false()),
    Index("ix_users_oidc_identity", "oidc_issuer", "oidc_subject", unique=True),
)

# Which person has already been told of which task (kind: new | overdue): a notice is never sent twice.
task_notices = Table(
    "task_notices",
    metadata,
    Column("username", String(150), primary_key=True),
    Column("task_id", String(36), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_task_notices_task_id", "task_id"),
)

# When each notification pass last ran (name: digest).
notification_runs = Table(
    "notification_runs",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("last_at", UtcDateTime, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256 of the token: never the token
    Column("label", String(100), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_used_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    Index("ix_api_tokens_user_id", "user_id"),
)

web_sessions = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),  # SHA-256 of the cookie's random id: never the id
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("data", JsonText, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("remote", String(64), nullable=True),
    Index("ix_sessions_user_id", "user_id"),
    Index("ix_sessions_last_seen_at", "last_seen_at"),
)

login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("username_key", String(64), nullable=False),  # SHA-256 of the name typed: never the name
    Column("address", String(64), nullable=False),  # the client address (an IPv6 address's /64)
    Column("succeeded", Boolean, nullable=False),
    Index("ix_login_attempts_address_at", "address", "at"),
    Index("ix_login_attempts_username_key_at", "username_key", "at"),
    Index("ix_login_attempts_at", "at"),
)

meetings = Table(
    "meetings",
    metadata,
    Column("id", String(64), primary_key=True),  # "<zone>-<YYYYMMDD>"
    Column("zone", String(64), nullable=False),
    Column("scheduled_at", UtcDateTime, nullable=False),
    Column("cutoff_at", UtcDateTime, nullable=False),
    Column("location", String(255), nullable=True),
    Column("status", String(16), nullable=False),  # planned | convened | cancelled | failed
    Column("due_at", UtcDateTime, nullable=False),  # when convening is next tried: the cut-off, later after a failure
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    Column("instance_id", String(36), nullable=True),
    Column("claimed_until", UtcDateTime, nullable=True),  # a scheduler's lease while it convenes the meeting
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_meetings_status_due_at", "status", "due_at"),
    Index("ix_meetings_zone_scheduled_at", "zone", "scheduled_at"),
)

meeting_agenda = Table(
    "meeting_agenda",
    metadata,
    Column("meeting_id", String(64), ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True),
    Column("case_id", String(36), primary_key=True),
    Column("reason", String(32), nullable=False),
    Column("item", JsonText, nullable=False),  # the case as the meeting needs it
    Column("added_at", UtcDateTime, nullable=False),
    Index("ix_meeting_agenda_case_id", "case_id"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("dedup_key", String(255), nullable=False, unique=True),
    Column("recipients", JsonText, nullable=False),
    Column("subject", String(998), nullable=False),
    Column("body", Text, nullable=False),
    Column("attachments", JsonText, nullable=False),  # [{filename, content_type, content_b64}]
    Column("status", String(16), nullable=False),  # pending | sending | sent | failed | expired
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("message_id", String(255), nullable=True),
    Column("expires_at", UtcDateTime, nullable=True),  # given up ("expired") if not sent by then
    Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
)

bookings = Table(
    "bookings",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("case_id", String(36), nullable=False),
    Column("zone", String(64), nullable=False),
    Column("case_manager", String(255), nullable=False),
    Column("slot_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("cancelled_at", UtcDateTime, nullable=True),
    UniqueConstraint("case_manager", "slot_at"),
    Index("ix_bookings_case_id", "case_id"),
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("instance_id", String(36), ForeignKey("instances.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),  # allegato | scheda_esito
    Column("filename", String(255), nullable=False),
    Column("content_type", String(127), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("uploaded_by", String(255), nullable=False),
    Column("uploaded_at", UtcDateTime, nullable=False),
    Index("ix_attachments_instance_id", "instance_id"),
)

clock_state = Table(
    "clock_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("now", UtcDateTime, nullable=False),
)

scheduler_heartbeats = Table(
    "scheduler_heartbeats",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("beat_at", UtcDateTime, nullable=False),
    Column("details", JsonText, nullable=True),
)

batch_jobs = Table(
    "batch_jobs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("operation", String(32), nullable=False),  # suspend | resume | terminate | retry | migrate
    Column("params", JsonText, nullable=True),  # filters, reason, target version
    Column("total", Integer, nullable=False),
    Column("done", Integer, nullable=False, default=0),
    Column("status", String(16), nullable=False),  # queued | running | finished | cancelled
    Column("results", JsonText, nullable=False),  # outcome counts {"ok": n, "failed": n, "skipped": n}
    Column("created_by", String(255), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("started_at", UtcDateTime, nullable=True),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("lease_until", UtcDateTime, nullable=True),  # a worker holds the job until then (wall clock)
    Index("ix_batch_jobs_status_created_at", "status", "created_at"),
)

batch_items = Table(
    "batch_items",
    metadata,
    Column("batch_id", String(36), ForeignKey("batch_jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("instance_id", String(36), nullable=False),
    Column("status", String(16), nullable=False),  # pending | ok | failed | skipped
    Column("code", String(32), nullable=True),  # why it failed: invalid_state, refused, not_found, conflict, error
    Column("message", Text, nullable=True),
    Column("details", JsonText, nullable=True),  # e.g. the reasons a migration was refused
    Column("done_at", UtcDateTime, nullable=True),
    Index("ix_batch_items_batch_id_status_position", "batch_id", "status", "position"),
)

# One secret key per case of a person, kept apart from the audit log: it seals the case's audit
# data and keys the person's pseudonym. Anonymisation deletes the row, and with it the link
# between the log and the person (crypto-shredding).
subject_keys = Table(
    "subject_keys",
    metadata,
    Column("instance_id", String(36), primary_key=True),
    Column("codice_fiscale", String(16), nullable=False),
    Column("key", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_subject_keys_codice_fiscale", "codice_fiscale"),
)

# Each retention pass: when, who, what it did (scheduled passes: one per day, leased).
retention_runs = Table(
    "retention_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("day", Date, nullable=True, unique=True),  # the scheduler's day; NULL for passes run by hand
    Column("mode", String(16), nullable=False),  # scheduled | manual | dry_run
    Column("started_by", String(255), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("status", String(16), nullable=False),  # running | done | failed
    Column("claimed_until", UtcDateTime, nullable=True),  # wall clock: another scheduler may take it over after
    Column("cases_anonymised", Integer, nullable=False, default=0),
    Column("attachments_deleted", Integer, nullable=False, default=0),
    Column("bytes_deleted", BigInteger, nullable=False, default=0),
    Column("cases_held", Integer, nullable=False, default=0),
    Column("report", JsonText, nullable=True),  # [{case, zone, ended_at, attachments, action}]
    Column("error", Text, nullable=True),
    Index("ix_retention_runs_started_at", "started_at"),
)

# Actions that move an instance's tokens: the step that opened a task is the latest of them before it.
STEP_ACTIONS = ("instance.started", "task.completed", "timer.fired", "message.delivered", "instance.retried",
                "instance.auto_retried", "instance.resumed", "instance.moved", "incident.skipped",
                "incident.edited_and_retried")

# Where the heat of a process version is read from: completions in a period, and per instance the
# step events before one (PostgreSQL reads both from the index alone).
Index("ix_audit_events_completed_at", audit_events.c.at, postgresql_include=["instance_id", "element_id", "id"],
      postgresql_where=audit_events.c.action == "task.completed",
      sqlite_where=audit_events.c.action == "task.completed")
Index("ix_audit_events_steps", audit_events.c.instance_id, audit_events.c.id, postgresql_include=["at"],
      postgresql_where=audit_events.c.action.in_(STEP_ACTIONS), sqlite_where=audit_events.c.action.in_(STEP_ACTIONS))
# Cases of a version waiting now, by what they wait at.
Index("ix_instances_version_status_step", instances.c.process_version_id, instances.c.status,
      instances.c.current_step, postgresql_include=["id"])

# An error of an instance, from its first failure to its resolution (at most one open per instance).
incidents = Table(
    "incidents",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("instance_id", String(36), ForeignKey("instances.id", ondelete="CASCADE"), nullable=False),
    Column("process_id", String(255), nullable=False),
    Column("process_version_id", Integer, nullable=False),
    Column("element_id", String(255), nullable=True),
    Column("element_name", String(255), nullable=True),
    Column("kind", String(32), nullable=False),  # what failed, from the exception's type (domain.incident_kinds)
    Column("message", Text, nullable=False),  # the technical message, for whoever fixes the process
    Column("detail", JsonText, nullable=True),  # line, source line, whether a connector failed
    Column("status", String(16), nullable=False),  # open | resolved
    Column("attempts", Integer, nullable=False, default=1),  # failures so far (the first and each failed retry)
    Column("opened_at", UtcDateTime, nullable=False),
    Column("last_failed_at", UtcDateTime, nullable=False),
    Column("assignee", String(255), nullable=True),  # the administrator looking at it
    Column("resolution", String(32), nullable=True),  # retried | skipped | edited | moved | terminated | by_hand ...
    Column("resolution_note", Text, nullable=True),
    Column("resolved_by", String(255), nullable=True),
    Column("resolved_at", UtcDateTime, nullable=True),
    Index("ix_incidents_status_last_failed_at", "status", "last_failed_at"),
    Index("ix_incidents_instance_id_status", "instance_id", "status"),
    Index("ix_incidents_group", "process_version_id", "element_id", "kind", "status"),
)

incident_comments = Table(
    "incident_comments",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("incident_id", BigId, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("author", String(255), nullable=False),
    Column("text", Text, nullable=False),
    Index("ix_incident_comments_incident_id_id", "incident_id", "id"),
)

# An administrator's saved filter of the instance list.
saved_views = Table(
    "saved_views",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(150), nullable=False),
    Column("name", String(120), nullable=False),
    Column("query", Text, nullable=False),  # the list's query string
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("username", "name", name="uq_saved_views_username_name"),
)
