BEGIN
    -- ()
== upgrade head
PRAGMA main.table_info("alembic_version")
    -- ()
PRAGMA temp.table_info("alembic_version")
    -- ()
PRAGMA main.table_info("alembic_version")
    -- ()
PRAGMA temp.table_info("alembic_version")
    -- ()
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL,
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
)
    -- ()
CREATE TABLE accounting_codes (
	name VARCHAR(100) NOT NULL,
	number VARCHAR(255) NOT NULL,
	type VARCHAR(32) NOT NULL,
	account VARCHAR(255) NOT NULL,
	currencies VARCHAR(255) NOT NULL,
	active BOOLEAN NOT NULL,
	is_default BOOLEAN NOT NULL,
	CONSTRAINT pk_accounting_codes PRIMARY KEY (name)
	CONSTRAINT uq_accounting_codes_account UNIQUE (account)
	CONSTRAINT uq_accounting_codes_number UNIQUE (number)
)
    -- ()
CREATE TABLE customer_accounts (
	account_number VARCHAR(64) NOT NULL,
	name VARCHAR(255) NOT NULL,
	currency VARCHAR(3) NOT NULL,
	content_hash VARCHAR(64) NOT NULL,
	last_entry_seq INTEGER NOT NULL,
	last_entry_hash VARCHAR(64) NOT NULL,
	CONSTRAINT pk_customer_accounts PRIMARY KEY (account_number)
)
    -- ()
CREATE TABLE operations (
	id INTEGER NOT NULL,
	kind VARCHAR(64) NOT NULL,
	actor VARCHAR(100) NOT NULL,
	account_number VARCHAR(64),
	document_number VARCHAR(64),
	idempotency_key VARCHAR(255),
	request_hash VARCHAR(64) NOT NULL,
	request TEXT NOT NULL,
	result TEXT,
	status VARCHAR(16) NOT NULL,
	at DATETIME NOT NULL,
	CONSTRAINT pk_operations PRIMARY KEY (id)
	CONSTRAINT uq_operations_idempotency_key UNIQUE (idempotency_key)
)
    -- ()
CREATE TABLE periods (
	name VARCHAR(100) NOT NULL,
	start_date DATE NOT NULL,
	end_date DATE NOT NULL,
	fiscal_year INTEGER NOT NULL,
	fiscal_quarter INTEGER NOT NULL,
	status VARCHAR(16) NOT NULL,
	fingerprint VARCHAR(64),
	CONSTRAINT ck_periods_status CHECK (status in ('Open', 'Pending Close', 'Closed'))
	CONSTRAINT pk_periods PRIMARY KEY (name)
	CONSTRAINT uq_periods_end_date UNIQUE (end_date)
	CONSTRAINT uq_periods_start_date UNIQUE (start_date)
)
    -- ()
CREATE TABLE reason_codes (
	document_type VARCHAR(16) NOT NULL,
	name VARCHAR(100) NOT NULL,
	active BOOLEAN NOT NULL,
	CONSTRAINT ck_reason_codes_document_type CHECK (document_type in ('CreditMemo', 'DebitMemo'))
	CONSTRAINT pk_reason_codes PRIMARY KEY (document_type, name)
)
    -- ()
CREATE TABLE settings (
	"key" VARCHAR(100) NOT NULL,
	value TEXT NOT NULL,
	CONSTRAINT pk_settings PRIMARY KEY ("key")
)
    -- ()
CREATE TABLE applications (
	account_number VARCHAR(64) NOT NULL,
	id VARCHAR(64) NOT NULL,
	operation_id INTEGER NOT NULL,
	source_kind VARCHAR(16) NOT NULL,
	source_number VARCHAR(64) NOT NULL,
	source_item_id VARCHAR(64),
	target_number VARCHAR(64) NOT NULL,
	target_item_id VARCHAR(64) NOT NULL,
	target_is_tax BOOLEAN NOT NULL,
	amount BIGINT NOT NULL,
	effective_date DATE NOT NULL,
	CONSTRAINT ck_applications_source_kind CHECK (source_kind in ('Payment', 'CreditMemo'))
	CONSTRAINT fk_applications_operation_id_operations FOREIGN KEY(operation_id) REFERENCES operations (id)
	CONSTRAINT pk_applications PRIMARY KEY (account_number, id)
)
    -- ()
CREATE INDEX ix_applications_account_number_source_number ON applications (account_number, source_number)
    -- ()
CREATE INDEX ix_applications_account_number_target_number ON applications (account_number, target_number)
    -- ()
CREATE TABLE documents (
	account_number VARCHAR(64) NOT NULL,
	number VARCHAR(64) NOT NULL,
	kind VARCHAR(16) NOT NULL,
	status VARCHAR(16) NOT NULL,
	document_date DATE NOT NULL,
	due_date DATE,
	currency VARCHAR(3) NOT NULL,
	reason_code VARCHAR(100),
	comment VARCHAR(255),
	source VARCHAR(32),
	source_type VARCHAR(32),
	source_document VARCHAR(64),
	bill_run_id VARCHAR(64),
	revenue_impacting BOOLEAN,
	non_revenue_code VARCHAR(100),
	reversed BOOLEAN NOT NULL,
	transferred_to_accounting BOOLEAN NOT NULL,
	content_hash VARCHAR(64) NOT NULL,
	payload TEXT NOT NULL,
	operation_id INTEGER NOT NULL,
	CONSTRAINT ck_documents_kind CHECK (kind in ('Invoice', 'DebitMemo', 'CreditMemo'))
	CONSTRAINT fk_documents_account_number_customer_accounts FOREIGN KEY(account_number) REFERENCES customer_accounts (account_number)
	CONSTRAINT fk_documents_non_revenue_code_accounting_codes FOREIGN KEY(non_revenue_code) REFERENCES accounting_codes (name)
	CONSTRAINT fk_documents_operation_id_operations FOREIGN KEY(operation_id) REFERENCES operations (id)
	CONSTRAINT pk_documents PRIMARY KEY (account_number, number)
)
    -- ()
CREATE INDEX ix_documents_number ON documents (number)
    -- ()
CREATE TABLE export_runs (
	id INTEGER NOT NULL,
	period VARCHAR(100) NOT NULL,
	format VARCHAR(16) NOT NULL,
	mode VARCHAR(16) NOT NULL,
	path TEXT NOT NULL,
	entry_count INTEGER NOT NULL,
	file_sha256 VARCHAR(64) NOT NULL,
	actor VARCHAR(100) NOT NULL,
	at DATETIME NOT NULL,
	CONSTRAINT fk_export_runs_period_periods FOREIGN KEY(period) REFERENCES periods (name)
	CONSTRAINT pk_export_runs PRIMARY KEY (id)
)
    -- ()
CREATE TABLE journal_entries (
	account_number VARCHAR(64) NOT NULL,
	seq INTEGER NOT NULL,
	entry_date DATE NOT NULL,
	period VARCHAR(100) NOT NULL,
	transaction_type VARCHAR(64) NOT NULL,
	currency VARCHAR(3) NOT NULL,
	document_number VARCHAR(64) NOT NULL,
	related_number VARCHAR(64),
	tag VARCHAR(32) NOT NULL,
	description VARCHAR(255) NOT NULL,
	operation_id INTEGER NOT NULL,
	prev_hash VARCHAR(64) NOT NULL,
	hash VARCHAR(64) NOT NULL,
	CONSTRAINT fk_journal_entries_operation_id_operations FOREIGN KEY(operation_id) REFERENCES operations (id)
	CONSTRAINT fk_journal_entries_period_periods FOREIGN KEY(period) REFERENCES periods (name)
	CONSTRAINT pk_journal_entries PRIMARY KEY (account_number, seq)
)
    -- ()
CREATE INDEX ix_journal_entries_account_number_document_number ON journal_entries (account_number, document_number)
    -- ()
CREATE INDEX ix_journal_entries_period_entry_date ON journal_entries (period, entry_date)
    -- ()
CREATE TABLE payments (
	account_number VARCHAR(64) NOT NULL,
	number VARCHAR(64) NOT NULL,
	type VARCHAR(16) NOT NULL,
	status VARCHAR(16) NOT NULL,
	effective_date DATE NOT NULL,
	currency VARCHAR(3) NOT NULL,
	amount BIGINT NOT NULL,
	unapplied BIGINT NOT NULL,
	cash_code VARCHAR(100) NOT NULL,
	unapplied_code VARCHAR(100) NOT NULL,
	transferred_to_accounting BOOLEAN NOT NULL,
	content_hash VARCHAR(64) NOT NULL,
	payload TEXT NOT NULL,
	operation_id INTEGER NOT NULL,
	CONSTRAINT fk_payments_account_number_customer_accounts FOREIGN KEY(account_number) REFERENCES customer_accounts (account_number)
	CONSTRAINT fk_payments_cash_code_accounting_codes FOREIGN KEY(cash_code) REFERENCES accounting_codes (name)
	CONSTRAINT fk_payments_operation_id_operations FOREIGN KEY(operation_id) REFERENCES operations (id)
	CONSTRAINT fk_payments_unapplied_code_accounting_codes FOREIGN KEY(unapplied_code) REFERENCES accounting_codes (name)
	CONSTRAINT pk_payments PRIMARY KEY (account_number, number)
)
    -- ()
CREATE INDEX ix_payments_number ON payments (number)
    -- ()
CREATE TABLE period_events (
	id INTEGER NOT NULL,
	period VARCHAR(100) NOT NULL,
	from_status VARCHAR(16) NOT NULL,
	to_status VARCHAR(16) NOT NULL,
	actor VARCHAR(100) NOT NULL,
	reason TEXT,
	fingerprint VARCHAR(64),
	at DATETIME NOT NULL,
	CONSTRAINT fk_period_events_period_periods FOREIGN KEY(period) REFERENCES periods (name)
	CONSTRAINT pk_period_events PRIMARY KEY (id)
)
    -- ()
CREATE TABLE document_items (
	account_number VARCHAR(64) NOT NULL,
	id VARCHAR(64) NOT NULL,
	document_number VARCHAR(64) NOT NULL,
	line_no INTEGER NOT NULL,
	processing_type VARCHAR(16) NOT NULL,
	charge_name VARCHAR(255),
	subscription_number VARCHAR(64),
	applied_to_item_id VARCHAR(64),
	quantity VARCHAR(40),
	unit_price VARCHAR(40),
	amount BIGINT NOT NULL,
	balance BIGINT NOT NULL,
	revenue_code VARCHAR(100) NOT NULL,
	ar_code VARCHAR(100) NOT NULL,
	on_account_code VARCHAR(100),
	source_item_id VARCHAR(64),
	source_item_type VARCHAR(32),
	CONSTRAINT fk_document_items_account_number_document_number_documents FOREIGN KEY(account_number, document_number) REFERENCES documents (account_number, number)
	CONSTRAINT fk_document_items_ar_code_accounting_codes FOREIGN KEY(ar_code) REFERENCES accounting_codes (name)
	CONSTRAINT fk_document_items_on_account_code_accounting_codes FOREIGN KEY(on_account_code) REFERENCES accounting_codes (name)
	CONSTRAINT fk_document_items_revenue_code_accounting_codes FOREIGN KEY(revenue_code) REFERENCES accounting_codes (name)
	CONSTRAINT pk_document_items PRIMARY KEY (account_number, id)
)
    -- ()
CREATE INDEX ix_document_items_account_number_document_number ON document_items (account_number, document_number)
    -- ()
CREATE TABLE journal_lines (
	account_number VARCHAR(64) NOT NULL,
	entry_seq INTEGER NOT NULL,
	line_no INTEGER NOT NULL,
	accounting_code VARCHAR(100) NOT NULL,
	debit BIGINT NOT NULL,
	credit BIGINT NOT NULL,
	currency VARCHAR(3) NOT NULL,
	item_id VARCHAR(64),
	CONSTRAINT ck_journal_lines_one_side CHECK (debit >= 0 AND credit >= 0 AND (debit = 0 OR credit = 0))
	CONSTRAINT fk_journal_lines_account_number_entry_seq_journal_entries FOREIGN KEY(account_number, entry_seq) REFERENCES journal_entries (account_number, seq) DEFERRABLE INITIALLY DEFERRED
	CONSTRAINT fk_journal_lines_accounting_code_accounting_codes FOREIGN KEY(accounting_code) REFERENCES accounting_codes (name)
	CONSTRAINT pk_journal_lines PRIMARY KEY (account_number, entry_seq, line_no)
)
    -- ()
CREATE TABLE journal_transfers (
	account_number VARCHAR(64) NOT NULL,
	entry_seq INTEGER NOT NULL,
	export_run_id INTEGER NOT NULL,
	CONSTRAINT fk_journal_transfers_account_number_entry_seq_journal_entries FOREIGN KEY(account_number, entry_seq) REFERENCES journal_entries (account_number, seq)
	CONSTRAINT fk_journal_transfers_export_run_id_export_runs FOREIGN KEY(export_run_id) REFERENCES export_runs (id)
	CONSTRAINT pk_journal_transfers PRIMARY KEY (account_number, entry_seq)
	CONSTRAINT uq_journal_transfers_account_number_entry_seq_export_run_id UNIQUE (account_number, entry_seq, export_run_id)
)
    -- ()
CREATE TABLE taxation_items (
	account_number VARCHAR(64) NOT NULL,
	id VARCHAR(64) NOT NULL,
	document_number VARCHAR(64) NOT NULL,
	item_id VARCHAR(64) NOT NULL,
	line_no INTEGER NOT NULL,
	name VARCHAR(255),
	jurisdiction VARCHAR(255),
	location_code VARCHAR(64),
	tax_code VARCHAR(64),
	tax_code_description VARCHAR(255),
	tax_mode VARCHAR(16),
	tax_rate VARCHAR(40),
	tax_rate_description VARCHAR(255),
	tax_rate_type VARCHAR(16),
	exempt_amount BIGINT,
	tax_amount BIGINT NOT NULL,
	tax_date DATE,
	balance BIGINT NOT NULL,
	sales_tax_code VARCHAR(100) NOT NULL,
	ar_code VARCHAR(100) NOT NULL,
	on_account_code VARCHAR(100),
	source_tax_item_id VARCHAR(64),
	CONSTRAINT fk_taxation_items_account_number_item_id_document_items FOREIGN KEY(account_number, item_id) REFERENCES document_items (account_number, id)
	CONSTRAINT fk_taxation_items_ar_code_accounting_codes FOREIGN KEY(ar_code) REFERENCES accounting_codes (name)
	CONSTRAINT fk_taxation_items_on_account_code_accounting_codes FOREIGN KEY(on_account_code) REFERENCES accounting_codes (name)
	CONSTRAINT fk_taxation_items_sales_tax_code_accounting_codes FOREIGN KEY(sales_tax_code) REFERENCES accounting_codes (name)
	CONSTRAINT pk_taxation_items PRIMARY KEY (account_number, id)
)
    -- ()
CREATE INDEX ix_taxation_items_account_number_document_number ON taxation_items (account_number, document_number)
    -- ()
CREATE TRIGGER journal_entries_balanced AFTER INSERT ON journal_entries
    WHEN NOT EXISTS (SELECT 1 FROM journal_lines l
                     WHERE l.account_number = NEW.account_number AND l.entry_seq = NEW.seq)
      OR EXISTS (SELECT 1 FROM journal_lines l
                 WHERE l.account_number = NEW.account_number AND l.entry_seq = NEW.seq
                 GROUP BY l.currency HAVING sum(l.debit) <> sum(l.credit))
    BEGIN SELECT RAISE(ABORT, 'journal entry is not balanced per currency'); END
    -- ()
CREATE TRIGGER journal_lines_sealed BEFORE INSERT ON journal_lines
    WHEN EXISTS (SELECT 1 FROM journal_entries e
                 WHERE e.account_number = NEW.account_number AND e.seq = NEW.entry_seq)
    BEGIN SELECT RAISE(ABORT, 'journal entry is posted: lines cannot be added'); END
    -- ()
CREATE TRIGGER journal_entries_no_update BEFORE UPDATE ON journal_entries
        BEGIN SELECT RAISE(ABORT, 'posted journal_entries are never updated or deleted'); END
    -- ()
CREATE TRIGGER journal_entries_no_delete BEFORE DELETE ON journal_entries
        BEGIN SELECT RAISE(ABORT, 'posted journal_entries are never updated or deleted'); END
    -- ()
CREATE TRIGGER journal_lines_no_update BEFORE UPDATE ON journal_lines
        BEGIN SELECT RAISE(ABORT, 'posted journal_lines are never updated or deleted'); END
    -- ()
CREATE TRIGGER journal_lines_no_delete BEFORE DELETE ON journal_lines
        BEGIN SELECT RAISE(ABORT, 'posted journal_lines are never updated or deleted'); END
    -- ()
INSERT INTO alembic_version (version_num) VALUES ('0001') RETURNING version_num
    -- ()
CREATE TABLE audit_refusals (
	id INTEGER NOT NULL,
	kind VARCHAR(64) NOT NULL,
	actor VARCHAR(100) NOT NULL,
	at DATETIME NOT NULL,
	idempotency_key VARCHAR(255),
	request_hash VARCHAR(64) NOT NULL,
	request TEXT NOT NULL,
	outcome VARCHAR(16) NOT NULL,
	error_code VARCHAR(64) NOT NULL,
	document VARCHAR(64),
	field VARCHAR(255),
	rule TEXT NOT NULL,
	CONSTRAINT ck_audit_refusals_outcome CHECK (outcome in ('refused', 'failed'))
	CONSTRAINT pk_audit_refusals PRIMARY KEY (id)
)
    -- ()
CREATE INDEX ix_audit_refusals_at ON audit_refusals (at)
    -- ()
CREATE TRIGGER audit_refusals_no_update BEFORE UPDATE ON audit_refusals
    BEGIN SELECT RAISE(ABORT, 'audit records are never updated or deleted'); END
    -- ()
CREATE TRIGGER audit_refusals_no_delete BEFORE DELETE ON audit_refusals
    BEGIN SELECT RAISE(ABORT, 'audit records are never updated or deleted'); END
    -- ()
UPDATE alembic_version SET version_num='0002' WHERE alembic_version.version_num = '0001'
    -- ()
CREATE TABLE invoice_item_adjustments (
	account_number VARCHAR(64) NOT NULL,
	number VARCHAR(64) NOT NULL,
	invoice_number VARCHAR(64) NOT NULL,
	type VARCHAR(8) NOT NULL,
	amount BIGINT NOT NULL,
	currency VARCHAR(3) NOT NULL,
	source_type VARCHAR(16) NOT NULL,
	source_id VARCHAR(64) NOT NULL,
	adjustment_date DATE NOT NULL,
	reason_code VARCHAR(100) NOT NULL,
	reference_id VARCHAR(60),
	comment VARCHAR(255),
	accounting_code VARCHAR(100) NOT NULL,
	deferred_revenue_account VARCHAR(100),
	recognized_revenue_account VARCHAR(100),
	ar_code VARCHAR(100) NOT NULL,
	status VARCHAR(16) NOT NULL,
	transferred_to_accounting BOOLEAN NOT NULL,
	custom_fields TEXT NOT NULL,
	operation_id INTEGER NOT NULL,
	CONSTRAINT ck_invoice_item_adjustments_amount_positive CHECK (amount > 0)
	CONSTRAINT ck_invoice_item_adjustments_source_type CHECK (source_type in ('InvoiceDetail', 'Tax'))
	CONSTRAINT ck_invoice_item_adjustments_status CHECK (status in ('Processed', 'Canceled'))
	CONSTRAINT ck_invoice_item_adjustments_type CHECK (type in ('Credit', 'Charge'))
	CONSTRAINT fk_invoice_item_adjustments_account_number_customer_accounts FOREIGN KEY(account_number) REFERENCES customer_accounts (account_number)
	CONSTRAINT fk_invoice_item_adjustments_account_number_invoice_number_documents FOREIGN KEY(account_number, invoice_number) REFERENCES documents (account_number, number)
	CONSTRAINT fk_invoice_item_adjustments_accounting_code_accounting_codes FOREIGN KEY(accounting_code) REFERENCES accounting_codes (name)
	CONSTRAINT fk_invoice_item_adjustments_ar_code_accounting_codes FOREIGN KEY(ar_code) REFERENCES accounting_codes (name)
	CONSTRAINT fk_invoice_item_adjustments_deferred_revenue_account_accounting_codes FOREIGN KEY(deferred_revenue_account) REFERENCES accounting_codes (name)
	CONSTRAINT fk_invoice_item_adjustments_operation_id_operations FOREIGN KEY(operation_id) REFERENCES operations (id)
	CONSTRAINT fk_invoice_item_adjustments_recognized_revenue_account_accounting_codes FOREIGN KEY(recognized_revenue_account) REFERENCES accounting_codes (name)
	CONSTRAINT pk_invoice_item_adjustments PRIMARY KEY (account_number, number)
)
    -- ()
CREATE INDEX ix_invoice_item_adjustments_account_number_invoice_number ON invoice_item_adjustments (account_number, invoice_number)
    -- ()
UPDATE alembic_version SET version_num='0003' WHERE alembic_version.version_num = '0002'
    -- ()
ALTER TABLE periods ADD COLUMN seal VARCHAR(64)
    -- ()
UPDATE alembic_version SET version_num='0004' WHERE alembic_version.version_num = '0003'
    -- ()
ALTER TABLE journal_entries ADD COLUMN hash_version INTEGER DEFAULT '1' NOT NULL
    -- ()
CREATE TRIGGER journal_entries_no_replace BEFORE INSERT ON journal_entries
    WHEN EXISTS (SELECT 1 FROM journal_entries o WHERE o.account_number = NEW.account_number AND o.seq = NEW.seq)
    BEGIN SELECT RAISE(ABORT, 'journal entry is posted: it cannot be replaced'); END
    -- ()
CREATE TRIGGER audit_refusals_no_replace BEFORE INSERT ON audit_refusals
    WHEN EXISTS (SELECT 1 FROM audit_refusals o WHERE o.id = NEW.id)
    BEGIN SELECT RAISE(ABORT, 'audit record exists: it cannot be replaced'); END
    -- ()
CREATE TRIGGER period_events_no_replace BEFORE INSERT ON period_events
    WHEN EXISTS (SELECT 1 FROM period_events o WHERE o.id = NEW.id)
    BEGIN SELECT RAISE(ABORT, 'period event is recorded: it cannot be replaced'); END
    -- ()
CREATE TRIGGER operations_no_replace BEFORE INSERT ON operations
    WHEN EXISTS (SELECT 1 FROM operations o WHERE o.id = NEW.id) OR EXISTS (SELECT 1 FROM operations o WHERE o.idempotency_key = NEW.idempotency_key)
    BEGIN SELECT RAISE(ABORT, 'operation is recorded: it cannot be replaced'); END
    -- ()
UPDATE alembic_version SET version_num='0006' WHERE alembic_version.version_num = '0004'
    -- ()
CREATE TABLE journal_runs (
	id INTEGER NOT NULL,
	number VARCHAR(16) NOT NULL,
	period VARCHAR(100) NOT NULL,
	entry_date DATE NOT NULL,
	status VARCHAR(16) NOT NULL,
	entry_count INTEGER NOT NULL,
	line_count INTEGER NOT NULL,
	created_by VARCHAR(100) NOT NULL,
	created_at DATETIME NOT NULL,
	status_by VARCHAR(100),
	status_at DATETIME,
	status_note TEXT,
	CONSTRAINT ck_journal_runs_status CHECK (status in ('Processing', 'Completed', 'Error', 'Cancelled'))
	CONSTRAINT fk_journal_runs_period_periods FOREIGN KEY(period) REFERENCES periods (name)
	CONSTRAINT pk_journal_runs PRIMARY KEY (id)
	CONSTRAINT uq_journal_runs_number UNIQUE (number)
)
    -- ()
CREATE TABLE journal_run_entries (
	account_number VARCHAR(64) NOT NULL,
	entry_seq INTEGER NOT NULL,
	run_id INTEGER NOT NULL,
	CONSTRAINT fk_journal_run_entries_account_number_entry_seq_journal_entries FOREIGN KEY(account_number, entry_seq) REFERENCES journal_entries (account_number, seq)
	CONSTRAINT fk_journal_run_entries_run_id_journal_runs FOREIGN KEY(run_id) REFERENCES journal_runs (id)
	CONSTRAINT pk_journal_run_entries PRIMARY KEY (account_number, entry_seq)
)
    -- ()
CREATE INDEX ix_journal_run_entries_run_id ON journal_run_entries (run_id)
    -- ()
CREATE TABLE journal_run_totals (
	run_id INTEGER NOT NULL,
	transaction_type VARCHAR(64) NOT NULL,
	currency VARCHAR(3) NOT NULL,
	accounting_code VARCHAR(100) NOT NULL,
	debit BIGINT NOT NULL,
	credit BIGINT NOT NULL,
	CONSTRAINT fk_journal_run_totals_accounting_code_accounting_codes FOREIGN KEY(accounting_code) REFERENCES accounting_codes (name)
	CONSTRAINT fk_journal_run_totals_run_id_journal_runs FOREIGN KEY(run_id) REFERENCES journal_runs (id)
	CONSTRAINT pk_journal_run_totals PRIMARY KEY (run_id, transaction_type, currency, accounting_code)
)
    -- ()
SELECT id, period, actor, at FROM export_runs ORDER BY id
    -- ()
INSERT INTO journal_run_entries (account_number, entry_seq, run_id) SELECT account_number, entry_seq, export_run_id FROM journal_transfers
    -- ()
INSERT INTO journal_run_totals (run_id, transaction_type, currency, accounting_code, debit, credit) SELECT r.run_id, e.transaction_type, e.currency, l.accounting_code, SUM(l.debit), SUM(l.credit) FROM journal_run_entries r JOIN journal_entries e ON e.account_number = r.account_number AND e.seq = r.entry_seq JOIN journal_lines l ON l.account_number = r.account_number AND l.entry_seq = r.entry_seq GROUP BY r.run_id, e.transaction_type, e.currency, l.accounting_code
    -- ()
UPDATE journal_runs SET entry_count = (SELECT count(*) FROM journal_run_entries r WHERE r.run_id = journal_runs.id), line_count = (SELECT count(*) FROM journal_run_entries r JOIN journal_lines l ON l.account_number = r.account_number AND l.entry_seq = r.entry_seq WHERE r.run_id = journal_runs.id)
    -- ()
DROP TABLE journal_transfers
    -- ()
DROP TABLE export_runs
    -- ()
UPDATE alembic_version SET version_num='0007' WHERE alembic_version.version_num = '0006'
    -- ()
CREATE TABLE refunds (
	account_number VARCHAR(64) NOT NULL,
	number VARCHAR(64) NOT NULL,
	credit_memo_number VARCHAR(64) NOT NULL,
	type VARCHAR(16) NOT NULL,
	status VARCHAR(16) NOT NULL,
	refund_date DATE NOT NULL,
	currency VARCHAR(3) NOT NULL,
	amount BIGINT NOT NULL,
	method VARCHAR(64),
	reference_id VARCHAR(60),
	reason_code VARCHAR(100),
	comment VARCHAR(255),
	cash_code VARCHAR(100) NOT NULL,
	cancel_date DATE,
	operation_id INTEGER NOT NULL,
	cancel_operation_id INTEGER,
	CONSTRAINT ck_refunds_amount_positive CHECK (amount > 0)
	CONSTRAINT ck_refunds_status CHECK (status in ('Processed', 'Canceled'))
	CONSTRAINT ck_refunds_type CHECK (type in ('External', 'Electronic'))
	CONSTRAINT fk_refunds_account_number_customer_accounts FOREIGN KEY(account_number) REFERENCES customer_accounts (account_number)
	CONSTRAINT fk_refunds_cancel_operation_id_operations FOREIGN KEY(cancel_operation_id) REFERENCES operations (id)
	CONSTRAINT fk_refunds_cash_code_accounting_codes FOREIGN KEY(cash_code) REFERENCES accounting_codes (name)
	CONSTRAINT fk_refunds_operation_id_operations FOREIGN KEY(operation_id) REFERENCES operations (id)
	CONSTRAINT pk_refunds PRIMARY KEY (account_number, number)
)
    -- ()
CREATE INDEX ix_refunds_account_number_credit_memo_number ON refunds (account_number, credit_memo_number)
    -- ()
CREATE INDEX ix_refunds_number ON refunds (number)
    -- ()
CREATE TABLE refund_items (
	account_number VARCHAR(64) NOT NULL,
	id VARCHAR(64) NOT NULL,
	refund_number VARCHAR(64) NOT NULL,
	memo_item_id VARCHAR(64) NOT NULL,
	is_tax BOOLEAN NOT NULL,
	amount BIGINT NOT NULL,
	CONSTRAINT fk_refund_items_account_number_refund_number_refunds FOREIGN KEY(account_number, refund_number) REFERENCES refunds (account_number, number)
	CONSTRAINT pk_refund_items PRIMARY KEY (account_number, id)
)
    -- ()
CREATE INDEX ix_refund_items_account_number_refund_number ON refund_items (account_number, refund_number)
    -- ()
ALTER TABLE document_items ADD COLUMN charge_model VARCHAR(255)
    -- ()
ALTER TABLE document_items ADD COLUMN charge_number VARCHAR(64)
    -- ()
ALTER TABLE document_items ADD COLUMN description VARCHAR(255)
    -- ()
ALTER TABLE document_items ADD COLUMN unit_of_measure VARCHAR(64)
    -- ()
ALTER TABLE document_items ADD COLUMN sku VARCHAR(64)
    -- ()
ALTER TABLE document_items ADD COLUMN sku_name VARCHAR(255)
    -- ()
ALTER TABLE document_items ADD COLUMN service_start_date DATE
    -- ()
ALTER TABLE document_items ADD COLUMN service_end_date DATE
    -- ()
UPDATE alembic_version SET version_num='0008' WHERE alembic_version.version_num = '0007'
    -- ()
CREATE TABLE document_numbers (
	number VARCHAR(64) NOT NULL,
	kind VARCHAR(16) NOT NULL,
	account_number VARCHAR(64) NOT NULL,
	CONSTRAINT ck_document_numbers_kind CHECK (kind in ('Invoice', 'DebitMemo', 'CreditMemo', 'Payment'))
	CONSTRAINT pk_document_numbers PRIMARY KEY (number)
)
    -- ()
INSERT INTO document_numbers (number, kind, account_number)
    SELECT number, min(kind), min(account_number) FROM (
        SELECT number, kind, account_number FROM documents
        UNION ALL SELECT number, 'Payment', account_number FROM payments
    ) AS held GROUP BY number
    -- ()
CREATE TRIGGER documents_register_number AFTER INSERT ON documents
    BEGIN INSERT INTO document_numbers (number, kind, account_number)
          VALUES (NEW.number, NEW.kind, NEW.account_number); END
    -- ()
CREATE TRIGGER payments_register_number AFTER INSERT ON payments
    BEGIN INSERT INTO document_numbers (number, kind, account_number)
          VALUES (NEW.number, 'Payment', NEW.account_number); END
    -- ()
CREATE TABLE actors (
	name VARCHAR(100) NOT NULL,
	CONSTRAINT ck_actors_name CHECK (name <> '')
	CONSTRAINT pk_actors PRIMARY KEY (name)
)
    -- ()
CREATE TABLE actor_permissions (
	actor VARCHAR(100) NOT NULL,
	permission VARCHAR(64) NOT NULL,
	CONSTRAINT fk_actor_permissions_actor_actors FOREIGN KEY(actor) REFERENCES actors (name)
	CONSTRAINT pk_actor_permissions PRIMARY KEY (actor, permission)
)
    -- ()
SELECT 1 FROM settings LIMIT 1
    -- ()
CREATE TABLE money_bound (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      journal_debits REAL NOT NULL
    )
    -- ()
INSERT INTO money_bound (id, journal_debits) SELECT 1, total(debit) FROM journal_lines
    -- ()
CREATE TRIGGER journal_entries_money_bound AFTER INSERT ON journal_entries
    BEGIN
      UPDATE money_bound SET journal_debits = journal_debits + (
        SELECT total(l.debit) FROM journal_lines l
        WHERE l.account_number = NEW.account_number AND l.entry_seq = NEW.seq
      ) WHERE id = 1;
      SELECT RAISE(ABORT, 'subledger-limit: the book would hold more than 400,000,000,000,000 in journal debits, the most SQLite can sum exactly (a book this size belongs on PostgreSQL)')
      WHERE (SELECT journal_debits FROM money_bound WHERE id = 1) > 4000000000000000000;
    END
    -- ()
UPDATE alembic_version SET version_num='0005' WHERE alembic_version.version_num = '0008'
    -- ()
CREATE TABLE api_clients (
	client_id VARCHAR(100) NOT NULL,
	actor VARCHAR(100) NOT NULL,
	secret_hash VARCHAR(255) NOT NULL,
	created_at INTEGER NOT NULL,
	CONSTRAINT pk_api_clients PRIMARY KEY (client_id)
)
    -- ()
CREATE TABLE api_tokens (
	token_hash VARCHAR(64) NOT NULL,
	client_id VARCHAR(100) NOT NULL,
	expires_at INTEGER NOT NULL,
	CONSTRAINT fk_api_tokens_client_id_api_clients FOREIGN KEY(client_id) REFERENCES api_clients (client_id)
	CONSTRAINT pk_api_tokens PRIMARY KEY (token_hash)
)
    -- ()
CREATE INDEX ix_api_tokens_client_id ON api_tokens (client_id)
    -- ()
UPDATE alembic_version SET version_num='0009' WHERE alembic_version.version_num = '0005'
    -- ()
CREATE INDEX ix_document_items_id ON document_items (id)
    -- ()
CREATE INDEX ix_taxation_items_id ON taxation_items (id)
    -- ()
UPDATE alembic_version SET version_num='0010' WHERE alembic_version.version_num = '0009'
    -- ()
== downgrade 0009
PRAGMA main.table_info("alembic_version")
    -- ()
SELECT alembic_version.version_num
FROM alembic_version
    -- ()
DROP INDEX ix_taxation_items_id
    -- ()
DROP INDEX ix_document_items_id
    -- ()
UPDATE alembic_version SET version_num='0009' WHERE alembic_version.version_num = '0010'
    -- ()
== downgrade 0005
PRAGMA main.table_info("alembic_version")
    -- ()
SELECT alembic_version.version_num
FROM alembic_version
    -- ()
DROP INDEX ix_api_tokens_client_id
    -- ()
DROP TABLE api_tokens
    -- ()
DROP TABLE api_clients
    -- ()
UPDATE alembic_version SET version_num='0005' WHERE alembic_version.version_num = '0009'
    -- ()
== downgrade 0008
PRAGMA main.table_info("alembic_version")
    -- ()
SELECT alembic_version.version_num
FROM alembic_version
    -- ()
DROP TRIGGER journal_entries_money_bound
    -- ()
DROP TABLE money_bound
    -- ()
DROP TRIGGER documents_register_number
    -- ()
DROP TRIGGER payments_register_number
    -- ()
DROP TABLE actor_permissions
    -- ()
DROP TABLE actors
    -- ()
DROP TABLE document_numbers
    -- ()
UPDATE alembic_version SET version_num='0008' WHERE alembic_version.version_num = '0005'
    -- ()
== downgrade 0007
PRAGMA main.table_info("alembic_version")
    -- ()
SELECT alembic_version.version_num
FROM alembic_version
    -- ()
PRAGMA main.table_xinfo("document_items")
    -- ()
SELECT sql FROM  (SELECT * FROM sqlite_master UNION ALL   SELECT * FROM sqlite_temp_master) WHERE name = ? AND type in ('table', 'view')
    -- ('document_items',)
PRAGMA main.foreign_key_list("document_items")
    -- ()
SELECT sql FROM  (SELECT * FROM sqlite_master UNION ALL   SELECT * FROM sqlite_temp_master) WHERE name = ? AND type in ('table', 'view')
    -- ('document_items',)
PRAGMA main.index_list("document_items")
    -- ()
PRAGMA main.index_info("ix_document_items_account_number_document_number")
    -- ()
PRAGMA main.index_list("document_items")
    -- ()
PRAGMA main.index_info("ix_document_items_account_number_document_number")
    -- ()
PRAGMA main.index_info("sqlite_autoindex_document_items_1")
    -- ()
SELECT sql FROM  (SELECT * FROM sqlite_master UNION ALL   SELECT * FROM sqlite_temp_master) WHERE name = ? AND type in ('table', 'view')
    -- ('document_items',)
PRAGMA main.table_xinfo("documents")
    -- ()
SELECT sql FROM  (SELECT * FROM sqlite_master UNION ALL   SELECT * FROM sqlite_temp_master) WHERE name = ? AND type in ('table', 'view')
    -- ('documents',)
PRAGMA main.foreign_key_list("documents")
    -- ()
SELECT sql FROM  (SELECT * FROM sqlite_master UNION ALL   SELECT * FROM sqlite_temp_master) WHERE name = ? AND type in ('table', 'view')
    -- ('documents',)
PRAGMA main.index_list("documents")
    -- ()
PRAGMA main.index_info("ix_documents_number")
    -- ()
PRAGMA main.index_list("documents")
    -- ()
PRAGMA main.index_info("ix_documents_number")
    -- ()
PRAGMA main.index_info("sqlite_autoindex_documents_1")
    -- ()
SELECT sql FROM  (SELECT * FROM sqlite_master UNION ALL   SELECT * FROM sqlite_temp_master) WHERE name = ? AND type in ('table', 'view')
    -- ('documents',)
PRAGMA main.table_xinfo("customer_accounts")
    -- ()
SELECT sql FROM  (SELECT * FROM sqlite_master UNION ALL   SELECT * FROM sqlite_temp_master) WHERE name = ? AND type in ('table', 'view')
    -- ('customer_accounts',)
PRAGMA main.foreign_key_list("customer_accounts")
    -- ()
PRAGMA temp.foreign_key_list("customer_accounts")
    -- ()
SELECT sql FROM  (SELECT * FROM sqlite_master UNION ALL   SELECT * FROM sqlite_temp_master) WHERE name = ? AND type in ('table', 'view')
    -- ('customer_accounts',)
PRAGMA main.index_list("customer_accounts")
    -- ()
PRAGMA main.table_info("customer_accounts")
    -- ()
PRAGMA main.index_list("customer_accounts")
    -- ()
PRAGMA main.index_info("sqlite_autoindex_customer_accounts_1")
    -- ()
SELECT sql FROM  (SELECT * FROM sqlite_master UNION ALL   SELECT * FROM sqlite_temp_master) WHERE name = ? AND type in ('table', 'view')
    -- ('customer_accounts',)
PRAGMA main.table_xinfo("accounting_codes")
    -- ()
SELECT sql FROM  (SELECT * FROM sqlite_master UNION ALL   SELECT * FROM sqlite_temp_master) WHERE name = ? AND type in ('table', 'view')
    -- ('accounting_codes',)
PRAGMA main.foreign_key_list("accounting_codes")
    -- ()
PRAGMA temp.foreign_key_list("accounting_codes")
    -- ()
SELECT sql FROM  (SELECT * FROM sqlite_master UNION ALL   SELECT * FROM sqlite_temp_master) WHERE name = ? AND type in ('table', 'view')
    -- ('accounting_codes',)
PRAGMA main.index_list("accounting_codes")
    -- ()
PRAGMA main.table_info("accounting_codes")
    -- ()
PRAGMA main.index_list("accounting_codes")
    -- ()
PRAGMA main.index_info("sqlite_autoindex_accounting_codes_3")
    -- ()
PRAGMA main.index_info("sqlite_autoindex_accounting_codes_2")
    -- ()
PRAGMA main.index_info("sqlite_autoindex_accounting_codes_1")
    -- ()
SELECT sql FROM  (SELECT * FROM sqlite_master UNION ALL   SELECT * FROM sqlite_temp_master) WHERE name = ? AND type in ('table', 'view')
    -- ('accounting_codes',)
PRAGMA main.table_xinfo("operations")
    -- ()
SELECT sql FROM  (SELECT * FROM sqlite_master UNION ALL   SELECT * FROM sqlite_temp_master) WHERE name = ? AND type in ('table', 'view')
    -- ('operations',)
PRAGMA main.foreign_key_list("operations")
    -- ()
PRAGMA temp.foreign_key_list("operations")
    -- ()
SELECT sql FROM  (SELECT * FROM sqlite_master UNION ALL   SELECT * FROM sqlite_temp_master) WHERE name = ? AND type in ('table', 'view')
    -- ('operations',)
PRAGMA main.index_list("operations")
    -- ()
PRAGMA main.table_info("operations")
    -- ()
PRAGMA main.index_list("operations")
    -- ()
PRAGMA main.index_info("sqlite_autoindex_operations_1")
    -- ()
SELECT sql FROM  (SELECT * FROM sqlite_master UNION ALL   SELECT * FROM sqlite_temp_master) WHERE name = ? AND type in ('table', 'view')
    -- ('operations',)
CREATE TABLE _alembic_tmp_document_items (
	account_number VARCHAR(64) NOT NULL,
	id VARCHAR(64) NOT NULL,
	document_number VARCHAR(64) NOT NULL,
	line_no INTEGER NOT NULL,
	processing_type VARCHAR(16) NOT NULL,
	charge_name VARCHAR(255),
	subscription_number VARCHAR(64),
	applied_to_item_id VARCHAR(64),
	quantity VARCHAR(40),
	unit_price VARCHAR(40),
	amount BIGINT NOT NULL,
	balance BIGINT NOT NULL,
	revenue_code VARCHAR(100) NOT NULL,
	ar_code VARCHAR(100) NOT NULL,
	on_account_code VARCHAR(100),
	source_item_id VARCHAR(64),
	source_item_type VARCHAR(32),
	CONSTRAINT fk_document_items_account_number_document_number_documents FOREIGN KEY(account_number, document_number) REFERENCES documents (account_number, number)
	CONSTRAINT fk_document_items_ar_code_accounting_codes FOREIGN KEY(ar_code) REFERENCES accounting_codes (name)
	CONSTRAINT fk_document_items_on_account_code_accounting_codes FOREIGN KEY(on_account_code) REFERENCES accounting_codes (name)
	CONSTRAINT fk_document_items_revenue_code_accounting_codes FOREIGN KEY(revenue_code) REFERENCES accounting_codes (name)
	CONSTRAINT pk_document_items PRIMARY KEY (account_number, id)
)
    -- ()
INSERT INTO _alembic_tmp_document_items (account_number, id, document_number, line_no, processing_type, charge_name, subscription_number, applied_to_item_id, quantity, unit_price, amount, balance, revenue_code, ar_code, on_account_code, source_item_id, source_item_type) SELECT document_items.account_number, document_items.id, document_items.document_number, document_items.line_no, document_items.processing_type, document_items.charge_name, document_items.subscription_number, document_items.applied_to_item_id, document_items.quantity, document_items.unit_price, document_items.amount, document_items.balance, document_items.revenue_code, document_items.ar_code, document_items.on_account_code, document_items.source_item_id, document_items.source_item_type
FROM document_items
    -- ()
DROP TABLE document_items
    -- ()
ALTER TABLE _alembic_tmp_document_items RENAME TO document_items
    -- ()
CREATE INDEX ix_document_items_account_number_document_number ON document_items (account_number, document_number)
    -- ()
DROP INDEX ix_refund_items_account_number_refund_number
    -- ()
DROP TABLE refund_items
    -- ()
DROP INDEX ix_refunds_number
    -- ()
DROP INDEX ix_refunds_account_number_credit_memo_number
    -- ()
DROP TABLE refunds
    -- ()
UPDATE alembic_version SET version_num='0007' WHERE alembic_version.version_num = '0008'
    -- ()
== downgrade 0006
PRAGMA main.table_info("alembic_version")
    -- ()
SELECT alembic_version.version_num
FROM alembic_version
    -- ()
CREATE TABLE export_runs (
	id INTEGER NOT NULL,
	period VARCHAR(100) NOT NULL,
	format VARCHAR(16) NOT NULL,
	mode VARCHAR(16) NOT NULL,
	path TEXT NOT NULL,
	entry_count INTEGER NOT NULL,
	file_sha256 VARCHAR(64) NOT NULL,
	actor VARCHAR(100) NOT NULL,
	at DATETIME NOT NULL,
	CONSTRAINT fk_export_runs_period_periods FOREIGN KEY(period) REFERENCES periods (name)
	CONSTRAINT pk_export_runs PRIMARY KEY (id)
)
    -- ()
CREATE TABLE journal_transfers (
	account_number VARCHAR(64) NOT NULL,
	entry_seq INTEGER NOT NULL,
	export_run_id INTEGER NOT NULL,
	CONSTRAINT fk_journal_transfers_account_number_entry_seq_journal_entries FOREIGN KEY(account_number, entry_seq) REFERENCES journal_entries (account_number, seq)
	CONSTRAINT fk_journal_transfers_export_run_id_export_runs FOREIGN KEY(export_run_id) REFERENCES export_runs (id)
	CONSTRAINT pk_journal_transfers PRIMARY KEY (account_number, entry_seq)
	CONSTRAINT uq_journal_transfers_account_number_entry_seq_export_run_id UNIQUE (account_number, entry_seq, export_run_id)
)
    -- ()
INSERT INTO export_runs (id, period, format, mode, path, entry_count, file_sha256, actor, at) SELECT id, period, 'csv', 'detail', '', entry_count, '', created_by, created_at FROM journal_runs WHERE status = 'Completed'
    -- ()
INSERT INTO journal_transfers (account_number, entry_seq, export_run_id) SELECT r.account_number, r.entry_seq, r.run_id FROM journal_run_entries r JOIN journal_runs j ON j.id = r.run_id WHERE j.status = 'Completed'
    -- ()
DROP TABLE journal_run_totals
    -- ()
DROP INDEX ix_journal_run_entries_run_id
    -- ()
DROP TABLE journal_run_entries
    -- ()
DROP TABLE journal_runs
    -- ()
UPDATE alembic_version SET version_num='0006' WHERE alembic_version.version_num = '0007'
    -- ()
== downgrade 0004
PRAGMA main.table_info("alembic_version")
    -- ()
SELECT alembic_version.version_num
FROM alembic_version
    -- ()
DROP TRIGGER journal_entries_no_replace
    -- ()
DROP TRIGGER audit_refusals_no_replace
    -- ()
DROP TRIGGER period_events_no_replace
    -- ()
DROP TRIGGER operations_no_replace
    -- ()
ALTER TABLE journal_entries DROP COLUMN hash_version
    -- ()
UPDATE alembic_version SET version_num='0004' WHERE alembic_version.version_num = '0006'
    -- ()
== downgrade 0003
PRAGMA main.table_info("alembic_version")
    -- ()
SELECT alembic_version.version_num
FROM alembic_version
    -- ()
PRAGMA main.table_xinfo("periods")
    -- ()
SELECT sql FROM  (SELECT * FROM sqlite_master UNION ALL   SELECT * FROM sqlite_temp_master) WHERE name = ? AND type in ('table', 'view')
    -- ('periods',)
PRAGMA main.foreign_key_list("periods")
    -- ()
PRAGMA temp.foreign_key_list("periods")
    -- ()
SELECT sql FROM  (SELECT * FROM sqlite_master UNION ALL   SELECT * FROM sqlite_temp_master) WHERE name = ? AND type in ('table', 'view')
    -- ('periods',)
PRAGMA main.index_list("periods")
    -- ()
PRAGMA main.table_info("periods")
    -- ()
PRAGMA main.index_list("periods")
    -- ()
PRAGMA main.index_info("sqlite_autoindex_periods_3")
    -- ()
PRAGMA main.index_info("sqlite_autoindex_periods_2")
    -- ()
PRAGMA main.index_info("sqlite_autoindex_periods_1")
    -- ()
SELECT sql FROM  (SELECT * FROM sqlite_master UNION ALL   SELECT * FROM sqlite_temp_master) WHERE name = ? AND type in ('table', 'view')
    -- ('periods',)
CREATE TABLE _alembic_tmp_periods (
	name VARCHAR(100) NOT NULL,
	start_date DATE NOT NULL,
	end_date DATE NOT NULL,
	fiscal_year INTEGER NOT NULL,
	fiscal_quarter INTEGER NOT NULL,
	status VARCHAR(16) NOT NULL,
	fingerprint VARCHAR(64),
	CONSTRAINT ck_periods_status CHECK (status in ('Open', 'Pending Close', 'Closed'))
	CONSTRAINT pk_periods PRIMARY KEY (name)
	CONSTRAINT uq_periods_end_date UNIQUE (end_date)
	CONSTRAINT uq_periods_start_date UNIQUE (start_date)
)
    -- ()
INSERT INTO _alembic_tmp_periods (name, start_date, end_date, fiscal_year, fiscal_quarter, status, fingerprint) SELECT periods.name, periods.start_date, periods.end_date, periods.fiscal_year, periods.fiscal_quarter, periods.status, periods.fingerprint
FROM periods
    -- ()
DROP TABLE periods
    -- ()
ALTER TABLE _alembic_tmp_periods RENAME TO periods
    -- ()
UPDATE alembic_version SET version_num='0003' WHERE alembic_version.version_num = '0004'
    -- ()
== downgrade 0002
PRAGMA main.table_info("alembic_version")
    -- ()
SELECT alembic_version.version_num
FROM alembic_version
    -- ()
DROP INDEX ix_invoice_item_adjustments_account_number_invoice_number
    -- ()
DROP TABLE invoice_item_adjustments
    -- ()
UPDATE alembic_version SET version_num='0002' WHERE alembic_version.version_num = '0003'
    -- ()
== downgrade 0001
PRAGMA main.table_info("alembic_version")
    -- ()
SELECT alembic_version.version_num
FROM alembic_version
    -- ()
DROP INDEX ix_audit_refusals_at
    -- ()
DROP TABLE audit_refusals
    -- ()
UPDATE alembic_version SET version_num='0001' WHERE alembic_version.version_num = '0002'
    -- ()
== downgrade base
PRAGMA main.table_info("alembic_version")
    -- ()
SELECT alembic_version.version_num
FROM alembic_version
    -- ()
DROP INDEX ix_taxation_items_account_number_document_number
    -- ()
DROP TABLE taxation_items
    -- ()
DROP TABLE journal_transfers
    -- ()
DROP TABLE journal_lines
    -- ()
DROP INDEX ix_document_items_account_number_document_number
    -- ()
DROP TABLE document_items
    -- ()
DROP TABLE period_events
    -- ()
DROP INDEX ix_payments_number
    -- ()
DROP TABLE payments
    -- ()
DROP INDEX ix_journal_entries_period_entry_date
    -- ()
DROP INDEX ix_journal_entries_account_number_document_number
    -- ()
DROP TABLE journal_entries
    -- ()
DROP TABLE export_runs
    -- ()
DROP INDEX ix_documents_number
    -- ()
DROP TABLE documents
    -- ()
DROP INDEX ix_applications_account_number_target_number
    -- ()
DROP INDEX ix_applications_account_number_source_number
    -- ()
DROP TABLE applications
    -- ()
DROP TABLE settings
    -- ()
DROP TABLE reason_codes
    -- ()
DROP TABLE periods
    -- ()
DROP TABLE operations
    -- ()
DROP TABLE customer_accounts
    -- ()
DROP TABLE accounting_codes
    -- ()
DELETE FROM alembic_version WHERE alembic_version.version_num = '0001'
    -- ()
== upgrade head
PRAGMA main.table_info("alembic_version")
    -- ()
SELECT alembic_version.version_num
FROM alembic_version
    -- ()
PRAGMA main.table_info("alembic_version")
    -- ()
CREATE TABLE accounting_codes (
	name VARCHAR(100) NOT NULL,
	number VARCHAR(255) NOT NULL,
	type VARCHAR(32) NOT NULL,
	account VARCHAR(255) NOT NULL,
	currencies VARCHAR(255) NOT NULL,
	active BOOLEAN NOT NULL,
	is_default BOOLEAN NOT NULL,
	CONSTRAINT pk_accounting_codes PRIMARY KEY (name)
	CONSTRAINT uq_accounting_codes_account UNIQUE (account)
	CONSTRAINT uq_accounting_codes_number UNIQUE (number)
)
    -- ()
CREATE TABLE customer_accounts (
	account_number VARCHAR(64) NOT NULL,
	name VARCHAR(255) NOT NULL,
	currency VARCHAR(3) NOT NULL,
	content_hash VARCHAR(64) NOT NULL,
	last_entry_seq INTEGER NOT NULL,
	last_entry_hash VARCHAR(64) NOT NULL,
	CONSTRAINT pk_customer_accounts PRIMARY KEY (account_number)
)
    -- ()
CREATE TABLE operations (
	id INTEGER NOT NULL,
	kind VARCHAR(64) NOT NULL,
	actor VARCHAR(100) NOT NULL,
	account_number VARCHAR(64),
	document_number VARCHAR(64),
	idempotency_key VARCHAR(255),
	request_hash VARCHAR(64) NOT NULL,
	request TEXT NOT NULL,
	result TEXT,
	status VARCHAR(16) NOT NULL,
	at DATETIME NOT NULL,
	CONSTRAINT pk_operations PRIMARY KEY (id)
	CONSTRAINT uq_operations_idempotency_key UNIQUE (idempotency_key)
)
    -- ()
CREATE TABLE periods (
	name VARCHAR(100) NOT NULL,
	start_date DATE NOT NULL,
	end_date DATE NOT NULL,
	fiscal_year INTEGER NOT NULL,
	fiscal_quarter INTEGER NOT NULL,
	status VARCHAR(16) NOT NULL,
	fingerprint VARCHAR(64),
	CONSTRAINT ck_periods_status CHECK (status in ('Open', 'Pending Close', 'Closed'))
	CONSTRAINT pk_periods PRIMARY KEY (name)
	CONSTRAINT uq_periods_end_date UNIQUE (end_date)
	CONSTRAINT uq_periods_start_date UNIQUE (start_date)
)
    -- ()
CREATE TABLE reason_codes (
	document_type VARCHAR(16) NOT NULL,
	name VARCHAR(100) NOT NULL,
	active BOOLEAN NOT NULL,
	CONSTRAINT ck_reason_codes_document_type CHECK (document_type in ('CreditMemo', 'DebitMemo'))
	CONSTRAINT pk_reason_codes PRIMARY KEY (document_type, name)
)
    -- ()
CREATE TABLE settings (
	"key" VARCHAR(100) NOT NULL,
	value TEXT NOT NULL,
	CONSTRAINT pk_settings PRIMARY KEY ("key")
)
    -- ()
CREATE TABLE applications (
	account_number VARCHAR(64) NOT NULL,
	id VARCHAR(64) NOT NULL,
	operation_id INTEGER NOT NULL,
	source_kind VARCHAR(16) NOT NULL,
	source_number VARCHAR(64) NOT NULL,
	source_item_id VARCHAR(64),
	target_number VARCHAR(64) NOT NULL,
	target_item_id VARCHAR(64) NOT NULL,
	target_is_tax BOOLEAN NOT NULL,
	amount BIGINT NOT NULL,
	effective_date DATE NOT NULL,
	CONSTRAINT ck_applications_source_kind CHECK (source_kind in ('Payment', 'CreditMemo'))
	CONSTRAINT fk_applications_operation_id_operations FOREIGN KEY(operation_id) REFERENCES operations (id)
	CONSTRAINT pk_applications PRIMARY KEY (account_number, id)
)
    -- ()
CREATE INDEX ix_applications_account_number_source_number ON applications (account_number, source_number)
    -- ()
CREATE INDEX ix_applications_account_number_target_number ON applications (account_number, target_number)
    -- ()
CREATE TABLE documents (
	account_number VARCHAR(64) NOT NULL,
	number VARCHAR(64) NOT NULL,
	kind VARCHAR(16) NOT NULL,
	status VARCHAR(16) NOT NULL,
	document_date DATE NOT NULL,
	due_date DATE,
	currency VARCHAR(3) NOT NULL,
	reason_code VARCHAR(100),
	comment VARCHAR(255),
	source VARCHAR(32),
	source_type VARCHAR(32),
	source_document VARCHAR(64),
	bill_run_id VARCHAR(64),
	revenue_impacting BOOLEAN,
	non_revenue_code VARCHAR(100),
	reversed BOOLEAN NOT NULL,
	transferred_to_accounting BOOLEAN NOT NULL,
	content_hash VARCHAR(64) NOT NULL,
	payload TEXT NOT NULL,
	operation_id INTEGER NOT NULL,
	CONSTRAINT ck_documents_kind CHECK (kind in ('Invoice', 'DebitMemo', 'CreditMemo'))
	CONSTRAINT fk_documents_account_number_customer_accounts FOREIGN KEY(account_number) REFERENCES customer_accounts (account_number)
	CONSTRAINT fk_documents_non_revenue_code_accounting_codes FOREIGN KEY(non_revenue_code) REFERENCES accounting_codes (name)
	CONSTRAINT fk_documents_operation_id_operations FOREIGN KEY(operation_id) REFERENCES operations (id)
	CONSTRAINT pk_documents PRIMARY KEY (account_number, number)
)
    -- ()
CREATE INDEX ix_documents_number ON documents (number)
    -- ()
CREATE TABLE export_runs (
	id INTEGER NOT NULL,
	period VARCHAR(100) NOT NULL,
	format VARCHAR(16) NOT NULL,
	mode VARCHAR(16) NOT NULL,
	path TEXT NOT NULL,
	entry_count INTEGER NOT NULL,
	file_sha256 VARCHAR(64) NOT NULL,
	actor VARCHAR(100) NOT NULL,
	at DATETIME NOT NULL,
	CONSTRAINT fk_export_runs_period_periods FOREIGN KEY(period) REFERENCES periods (name)
	CONSTRAINT pk_export_runs PRIMARY KEY (id)
)
    -- ()
CREATE TABLE journal_entries (
	account_number VARCHAR(64) NOT NULL,
	seq INTEGER NOT NULL,
	entry_date DATE NOT NULL,
	period VARCHAR(100) NOT NULL,
	transaction_type VARCHAR(64) NOT NULL,
	currency VARCHAR(3) NOT NULL,
	document_number VARCHAR(64) NOT NULL,
	related_number VARCHAR(64),
	tag VARCHAR(32) NOT NULL,
	description VARCHAR(255) NOT NULL,
	operation_id INTEGER NOT NULL,
	prev_hash VARCHAR(64) NOT NULL,
	hash VARCHAR(64) NOT NULL,
	CONSTRAINT fk_journal_entries_operation_id_operations FOREIGN KEY(operation_id) REFERENCES operations (id)
	CONSTRAINT fk_journal_entries_period_periods FOREIGN KEY(period) REFERENCES periods (name)
	CONSTRAINT pk_journal_entries PRIMARY KEY (account_number, seq)
)
    -- ()
CREATE INDEX ix_journal_entries_account_number_document_number ON journal_entries (account_number, document_number)
    -- ()
CREATE INDEX ix_journal_entries_period_entry_date ON journal_entries (period, entry_date)
    -- ()
CREATE TABLE payments (
	account_number VARCHAR(64) NOT NULL,
	number VARCHAR(64) NOT NULL,
	type VARCHAR(16) NOT NULL,
	status VARCHAR(16) NOT NULL,
	effective_date DATE NOT NULL,
	currency VARCHAR(3) NOT NULL,
	amount BIGINT NOT NULL,
	unapplied BIGINT NOT NULL,
	cash_code VARCHAR(100) NOT NULL,
	unapplied_code VARCHAR(100) NOT NULL,
	transferred_to_accounting BOOLEAN NOT NULL,
	content_hash VARCHAR(64) NOT NULL,
	payload TEXT NOT NULL,
	operation_id INTEGER NOT NULL,
	CONSTRAINT fk_payments_account_number_customer_accounts FOREIGN KEY(account_number) REFERENCES customer_accounts (account_number)
	CONSTRAINT fk_payments_cash_code_accounting_codes FOREIGN KEY(cash_code) REFERENCES accounting_codes (name)
	CONSTRAINT fk_payments_operation_id_operations FOREIGN KEY(operation_id) REFERENCES operations (id)
	CONSTRAINT fk_payments_unapplied_code_accounting_codes FOREIGN KEY(unapplied_code) REFERENCES accounting_codes (name)
	CONSTRAINT pk_payments PRIMARY KEY (account_number, number)
)
    -- ()
CREATE INDEX ix_payments_number ON payments (number)
    -- ()
CREATE TABLE period_events (
	id INTEGER NOT NULL,
	period VARCHAR(100) NOT NULL,
	from_status VARCHAR(16) NOT NULL,
	to_status VARCHAR(16) NOT NULL,
	actor VARCHAR(100) NOT NULL,
	reason TEXT,
	fingerprint VARCHAR(64),
	at DATETIME NOT NULL,
	CONSTRAINT fk_period_events_period_periods FOREIGN KEY(period) REFERENCES periods (name)
	CONSTRAINT pk_period_events PRIMARY KEY (id)
)
    -- ()
CREATE TABLE document_items (
	account_number VARCHAR(64) NOT NULL,
	id VARCHAR(64) NOT NULL,
	document_number VARCHAR(64) NOT NULL,
	line_no INTEGER NOT NULL,
	processing_type VARCHAR(16) NOT NULL,
	charge_name VARCHAR(255),
	subscription_number VARCHAR(64),
	applied_to_item_id VARCHAR(64),
	quantity VARCHAR(40),
	unit_price VARCHAR(40),
	amount BIGINT NOT NULL,
	balance BIGINT NOT NULL,
	revenue_code VARCHAR(100) NOT NULL,
	ar_code VARCHAR(100) NOT NULL,
	on_account_code VARCHAR(100),
	source_item_id VARCHAR(64),
	source_item_type VARCHAR(32),
	CONSTRAINT fk_document_items_account_number_document_number_documents FOREIGN KEY(account_number, document_number) REFERENCES documents (account_number, number)
	CONSTRAINT fk_document_items_ar_code_accounting_codes FOREIGN KEY(ar_code) REFERENCES accounting_codes (name)
	CONSTRAINT fk_document_items_on_account_code_accounting_codes FOREIGN KEY(on_account_code) REFERENCES accounting_codes (name)
	CONSTRAINT fk_document_items_revenue_code_accounting_codes FOREIGN KEY(revenue_code) REFERENCES accounting_codes (name)
	CONSTRAINT pk_document_items PRIMARY KEY (account_number, id)
)
    -- ()
CREATE INDEX ix_document_items_account_number_document_number ON document_items (account_number, document_number)
    -- ()
CREATE TABLE journal_lines (
	account_number VARCHAR(64) NOT NULL,
	entry_seq INTEGER NOT NULL,
	line_no INTEGER NOT NULL,
	accounting_code VARCHAR(100) NOT NULL,
	debit BIGINT NOT NULL,
	credit BIGINT NOT NULL,
	currency VARCHAR(3) NOT NULL,
	item_id VARCHAR(64),
	CONSTRAINT ck_journal_lines_one_side CHECK (debit >= 0 AND credit >= 0 AND (debit = 0 OR credit = 0))
	CONSTRAINT fk_journal_lines_account_number_entry_seq_journal_entries FOREIGN KEY(account_number, entry_seq) REFERENCES journal_entries (account_number, seq) DEFERRABLE INITIALLY DEFERRED
	CONSTRAINT fk_journal_lines_accounting_code_accounting_codes FOREIGN KEY(accounting_code) REFERENCES accounting_codes (name)
	CONSTRAINT pk_journal_lines PRIMARY KEY (account_number, entry_seq, line_no)
)
    -- ()
CREATE TABLE journal_transfers (
	account_number VARCHAR(64) NOT NULL,
	entry_seq INTEGER NOT NULL,
	export_run_id INTEGER NOT NULL,
	CONSTRAINT fk_journal_transfers_account_number_entry_seq_journal_entries FOREIGN KEY(account_number, entry_seq) REFERENCES journal_entries (account_number, seq)
	CONSTRAINT fk_journal_transfers_export_run_id_export_runs FOREIGN KEY(export_run_id) REFERENCES export_runs (id)
	CONSTRAINT pk_journal_transfers PRIMARY KEY (account_number, entry_seq)
	CONSTRAINT uq_journal_transfers_account_number_entry_seq_export_run_id UNIQUE (account_number, entry_seq, export_run_id)
)
    -- ()
CREATE TABLE taxation_items (
	account_number VARCHAR(64) NOT NULL,
	id VARCHAR(64) NOT NULL,
	document_number VARCHAR(64) NOT NULL,
	item_id VARCHAR(64) NOT NULL,
	line_no INTEGER NOT NULL,
	name VARCHAR(255),
	jurisdiction VARCHAR(255),
	location_code VARCHAR(64),
	tax_code VARCHAR(64),
	tax_code_description VARCHAR(255),
	tax_mode VARCHAR(16),
	tax_rate VARCHAR(40),
	tax_rate_description VARCHAR(255),
	tax_rate_type VARCHAR(16),
	exempt_amount BIGINT,
	tax_amount BIGINT NOT NULL,
	tax_date DATE,
	balance BIGINT NOT NULL,
	sales_tax_code VARCHAR(100) NOT NULL,
	ar_code VARCHAR(100) NOT NULL,
	on_account_code VARCHAR(100),
	source_tax_item_id VARCHAR(64),
	CONSTRAINT fk_taxation_items_account_number_item_id_document_items FOREIGN KEY(account_number, item_id) REFERENCES document_items (account_number, id)
	CONSTRAINT fk_taxation_items_ar_code_accounting_codes FOREIGN KEY(ar_code) REFERENCES accounting_codes (name)
	CONSTRAINT fk_taxation_items_on_account_code_accounting_codes FOREIGN KEY(on_account_code) REFERENCES accounting_codes (name)
	CONSTRAINT fk_taxation_items_sales_tax_code_accounting_codes FOREIGN KEY(sales_tax_code) REFERENCES accounting_codes (name)
	CONSTRAINT pk_taxation_items PRIMARY KEY (account_number, id)
)
    -- ()
CREATE INDEX ix_taxation_items_account_number_document_number ON taxation_items (account_number, document_number)
    -- ()
CREATE TRIGGER journal_entries_balanced AFTER INSERT ON journal_entries
    WHEN NOT EXISTS (SELECT 1 FROM journal_lines l
                     WHERE l.account_number = NEW.account_number AND l.entry_seq = NEW.seq)
      OR EXISTS (SELECT 1 FROM journal_lines l
                 WHERE l.account_number = NEW.account_number AND l.entry_seq = NEW.seq
                 GROUP BY l.currency HAVING sum(l.debit) <> sum(l.credit))
    BEGIN SELECT RAISE(ABORT, 'journal entry is not balanced per currency'); END
    -- ()
CREATE TRIGGER journal_lines_sealed BEFORE INSERT ON journal_lines
    WHEN EXISTS (SELECT 1 FROM journal_entries e
                 WHERE e.account_number = NEW.account_number AND e.seq = NEW.entry_seq)
    BEGIN SELECT RAISE(ABORT, 'journal entry is posted: lines cannot be added'); END
    -- ()
CREATE TRIGGER journal_entries_no_update BEFORE UPDATE ON journal_entries
        BEGIN SELECT RAISE(ABORT, 'posted journal_entries are never updated or deleted'); END
    -- ()
CREATE TRIGGER journal_entries_no_delete BEFORE DELETE ON journal_entries
        BEGIN SELECT RAISE(ABORT, 'posted journal_entries are never updated or deleted'); END
    -- ()
CREATE TRIGGER journal_lines_no_update BEFORE UPDATE ON journal_lines
        BEGIN SELECT RAISE(ABORT, 'posted journal_lines are never updated or deleted'); END
    -- ()
CREATE TRIGGER journal_lines_no_delete BEFORE DELETE ON journal_lines
        BEGIN SELECT RAISE(ABORT, 'posted journal_lines are never updated or deleted'); END
    -- ()
INSERT INTO alembic_version (version_num) VALUES ('0001') RETURNING version_num
    -- ()
CREATE TABLE audit_refusals (
	id INTEGER NOT NULL,
	kind VARCHAR(64) NOT NULL,
	actor VARCHAR(100) NOT NULL,
	at DATETIME NOT NULL,
	idempotency_key VARCHAR(255),
	request_hash VARCHAR(64) NOT NULL,
	request TEXT NOT NULL,
	outcome VARCHAR(16) NOT NULL,
	error_code VARCHAR(64) NOT NULL,
	document VARCHAR(64),
	field VARCHAR(255),
	rule TEXT NOT NULL,
	CONSTRAINT ck_audit_refusals_outcome CHECK (outcome in ('refused', 'failed'))
	CONSTRAINT pk_audit_refusals PRIMARY KEY (id)
)
    -- ()
CREATE INDEX ix_audit_refusals_at ON audit_refusals (at)
    -- ()
CREATE TRIGGER audit_refusals_no_update BEFORE UPDATE ON audit_refusals
    BEGIN SELECT RAISE(ABORT, 'audit records are never updated or deleted'); END
    -- ()
CREATE TRIGGER audit_refusals_no_delete BEFORE DELETE ON audit_refusals
    BEGIN SELECT RAISE(ABORT, 'audit records are never updated or deleted'); END
    -- ()
UPDATE alembic_version SET version_num='0002' WHERE alembic_version.version_num = '0001'
    -- ()
CREATE TABLE invoice_item_adjustments (
	account_number VARCHAR(64) NOT NULL,
	number VARCHAR(64) NOT NULL,
	invoice_number VARCHAR(64) NOT NULL,
	type VARCHAR(8) NOT NULL,
	amount BIGINT NOT NULL,
	currency VARCHAR(3) NOT NULL,
	source_type VARCHAR(16) NOT NULL,
	source_id VARCHAR(64) NOT NULL,
	adjustment_date DATE NOT NULL,
	reason_code VARCHAR(100) NOT NULL,
	reference_id VARCHAR(60),
	comment VARCHAR(255),
	accounting_code VARCHAR(100) NOT NULL,
	deferred_revenue_account VARCHAR(100),
	recognized_revenue_account VARCHAR(100),
	ar_code VARCHAR(100) NOT NULL,
	status VARCHAR(16) NOT NULL,
	transferred_to_accounting BOOLEAN NOT NULL,
	custom_fields TEXT NOT NULL,
	operation_id INTEGER NOT NULL,
	CONSTRAINT ck_invoice_item_adjustments_amount_positive CHECK (amount > 0)
	CONSTRAINT ck_invoice_item_adjustments_source_type CHECK (source_type in ('InvoiceDetail', 'Tax'))
	CONSTRAINT ck_invoice_item_adjustments_status CHECK (status in ('Processed', 'Canceled'))
	CONSTRAINT ck_invoice_item_adjustments_type CHECK (type in ('Credit', 'Charge'))
	CONSTRAINT fk_invoice_item_adjustments_account_number_customer_accounts FOREIGN KEY(account_number) REFERENCES customer_accounts (account_number)
	CONSTRAINT fk_invoice_item_adjustments_account_number_invoice_number_documents FOREIGN KEY(account_number, invoice_number) REFERENCES documents (account_number, number)
	CONSTRAINT fk_invoice_item_adjustments_accounting_code_accounting_codes FOREIGN KEY(accounting_code) REFERENCES accounting_codes (name)
	CONSTRAINT fk_invoice_item_adjustments_ar_code_accounting_codes FOREIGN KEY(ar_code) REFERENCES accounting_codes (name)
	CONSTRAINT fk_invoice_item_adjustments_deferred_revenue_account_accounting_codes FOREIGN KEY(deferred_revenue_account) REFERENCES accounting_codes (name)
	CONSTRAINT fk_invoice_item_adjustments_operation_id_operations FOREIGN KEY(operation_id) REFERENCES operations (id)
	CONSTRAINT fk_invoice_item_adjustments_recognized_revenue_account_accounting_codes FOREIGN KEY(recognized_revenue_account) REFERENCES accounting_codes (name)
	CONSTRAINT pk_invoice_item_adjustments PRIMARY KEY (account_number, number)
)
    -- ()
CREATE INDEX ix_invoice_item_adjustments_account_number_invoice_number ON invoice_item_adjustments (account_number, invoice_number)
    -- ()
UPDATE alembic_version SET version_num='0003' WHERE alembic_version.version_num = '0002'
    -- ()
ALTER TABLE periods ADD COLUMN seal VARCHAR(64)
    -- ()
UPDATE alembic_version SET version_num='0004' WHERE alembic_version.version_num = '0003'
    -- ()
ALTER TABLE journal_entries ADD COLUMN hash_version INTEGER DEFAULT '1' NOT NULL
    -- ()
CREATE TRIGGER journal_entries_no_replace BEFORE INSERT ON journal_entries
    WHEN EXISTS (SELECT 1 FROM journal_entries o WHERE o.account_number = NEW.account_number AND o.seq = NEW.seq)
    BEGIN SELECT RAISE(ABORT, 'journal entry is posted: it cannot be replaced'); END
    -- ()
CREATE TRIGGER audit_refusals_no_replace BEFORE INSERT ON audit_refusals
    WHEN EXISTS (SELECT 1 FROM audit_refusals o WHERE o.id = NEW.id)
    BEGIN SELECT RAISE(ABORT, 'audit record exists: it cannot be replaced'); END
    -- ()
CREATE TRIGGER period_events_no_replace BEFORE INSERT ON period_events
    WHEN EXISTS (SELECT 1 FROM period_events o WHERE o.id = NEW.id)
    BEGIN SELECT RAISE(ABORT, 'period event is recorded: it cannot be replaced'); END
    -- ()
CREATE TRIGGER operations_no_replace BEFORE INSERT ON operations
    WHEN EXISTS (SELECT 1 FROM operations o WHERE o.id = NEW.id) OR EXISTS (SELECT 1 FROM operations o WHERE o.idempotency_key = NEW.idempotency_key)
    BEGIN SELECT RAISE(ABORT, 'operation is recorded: it cannot be replaced'); END
    -- ()
UPDATE alembic_version SET version_num='0006' WHERE alembic_version.version_num = '0004'
    -- ()
CREATE TABLE journal_runs (
	id INTEGER NOT NULL,
	number VARCHAR(16) NOT NULL,
	period VARCHAR(100) NOT NULL,
	entry_date DATE NOT NULL,
	status VARCHAR(16) NOT NULL,
	entry_count INTEGER NOT NULL,
	line_count INTEGER NOT NULL,
	created_by VARCHAR(100) NOT NULL,
	created_at DATETIME NOT NULL,
	status_by VARCHAR(100),
	status_at DATETIME,
	status_note TEXT,
	CONSTRAINT ck_journal_runs_status CHECK (status in ('Processing', 'Completed', 'Error', 'Cancelled'))
	CONSTRAINT fk_journal_runs_period_periods FOREIGN KEY(period) REFERENCES periods (name)
	CONSTRAINT pk_journal_runs PRIMARY KEY (id)
	CONSTRAINT uq_journal_runs_number UNIQUE (number)
)
    -- ()
CREATE TABLE journal_run_entries (
	account_number VARCHAR(64) NOT NULL,
	entry_seq INTEGER NOT NULL,
	run_id INTEGER NOT NULL,
	CONSTRAINT fk_journal_run_entries_account_number_entry_seq_journal_entries FOREIGN KEY(account_number, entry_seq) REFERENCES journal_entries (account_number, seq)
	CONSTRAINT fk_journal_run_entries_run_id_journal_runs FOREIGN KEY(run_id) REFERENCES journal_runs (id)
	CONSTRAINT pk_journal_run_entries PRIMARY KEY (account_number, entry_seq)
)
    -- ()
CREATE INDEX ix_journal_run_entries_run_id ON journal_run_entries (run_id)
    -- ()
CREATE TABLE journal_run_totals (
	run_id INTEGER NOT NULL,
	transaction_type VARCHAR(64) NOT NULL,
	currency VARCHAR(3) NOT NULL,
	accounting_code VARCHAR(100) NOT NULL,
	debit BIGINT NOT NULL,
	credit BIGINT NOT NULL,
	CONSTRAINT fk_journal_run_totals_accounting_code_accounting_codes FOREIGN KEY(accounting_code) REFERENCES accounting_codes (name)
	CONSTRAINT fk_journal_run_totals_run_id_journal_runs FOREIGN KEY(run_id) REFERENCES journal_runs (id)
	CONSTRAINT pk_journal_run_totals PRIMARY KEY (run_id, transaction_type, currency, accounting_code)
)
    -- ()
SELECT id, period, actor, at FROM export_runs ORDER BY id
    -- ()
INSERT INTO journal_run_entries (account_number, entry_seq, run_id) SELECT account_number, entry_seq, export_run_id FROM journal_transfers
    -- ()
INSERT INTO journal_run_totals (run_id, transaction_type, currency, accounting_code, debit, credit) SELECT r.run_id, e.transaction_type, e.currency, l.accounting_code, SUM(l.debit), SUM(l.credit) FROM journal_run_entries r JOIN journal_entries e ON e.account_number = r.account_number AND e.seq = r.entry_seq JOIN journal_lines l ON l.account_number = r.account_number AND l.entry_seq = r.entry_seq GROUP BY r.run_id, e.transaction_type, e.currency, l.accounting_code
    -- ()
UPDATE journal_runs SET entry_count = (SELECT count(*) FROM journal_run_entries r WHERE r.run_id = journal_runs.id), line_count = (SELECT count(*) FROM journal_run_entries r JOIN journal_lines l ON l.account_number = r.account_number AND l.entry_seq = r.entry_seq WHERE r.run_id = journal_runs.id)
    -- ()
DROP TABLE journal_transfers
    -- ()
DROP TABLE export_runs
    -- ()
UPDATE alembic_version SET version_num='0007' WHERE alembic_version.version_num = '0006'
    -- ()
CREATE TABLE refunds (
	account_number VARCHAR(64) NOT NULL,
	number VARCHAR(64) NOT NULL,
	credit_memo_number VARCHAR(64) NOT NULL,
	type VARCHAR(16) NOT NULL,
	status VARCHAR(16) NOT NULL,
	refund_date DATE NOT NULL,
	currency VARCHAR(3) NOT NULL,
	amount BIGINT NOT NULL,
	method VARCHAR(64),
	reference_id VARCHAR(60),
	reason_code VARCHAR(100),
	comment VARCHAR(255),
	cash_code VARCHAR(100) NOT NULL,
	cancel_date DATE,
	operation_id INTEGER NOT NULL,
	cancel_operation_id INTEGER,
	CONSTRAINT ck_refunds_amount_positive CHECK (amount > 0)
	CONSTRAINT ck_refunds_status CHECK (status in ('Processed', 'Canceled'))
	CONSTRAINT ck_refunds_type CHECK (type in ('External', 'Electronic'))
	CONSTRAINT fk_refunds_account_number_customer_accounts FOREIGN KEY(account_number) REFERENCES customer_accounts (account_number)
	CONSTRAINT fk_refunds_cancel_operation_id_operations FOREIGN KEY(cancel_operation_id) REFERENCES operations (id)
	CONSTRAINT fk_refunds_cash_code_accounting_codes FOREIGN KEY(cash_code) REFERENCES accounting_codes (name)
	CONSTRAINT fk_refunds_operation_id_operations FOREIGN KEY(operation_id) REFERENCES operations (id)
	CONSTRAINT pk_refunds PRIMARY KEY (account_number, number)
)
    -- ()
CREATE INDEX ix_refunds_account_number_credit_memo_number ON refunds (account_number, credit_memo_number)
    -- ()
CREATE INDEX ix_refunds_number ON refunds (number)
    -- ()
CREATE TABLE refund_items (
	account_number VARCHAR(64) NOT NULL,
	id VARCHAR(64) NOT NULL,
	refund_number VARCHAR(64) NOT NULL,
	memo_item_id VARCHAR(64) NOT NULL,
	is_tax BOOLEAN NOT NULL,
	amount BIGINT NOT NULL,
	CONSTRAINT fk_refund_items_account_number_refund_number_refunds FOREIGN KEY(account_number, refund_number) REFERENCES refunds (account_number, number)
	CONSTRAINT pk_refund_items PRIMARY KEY (account_number, id)
)
    -- ()
CREATE INDEX ix_refund_items_account_number_refund_number ON refund_items (account_number, refund_number)
    -- ()
ALTER TABLE document_items ADD COLUMN charge_model VARCHAR(255)
    -- ()
ALTER TABLE document_items ADD COLUMN charge_number VARCHAR(64)
    -- ()
ALTER TABLE document_items ADD COLUMN description VARCHAR(255)
    -- ()
ALTER TABLE document_items ADD COLUMN unit_of_measure VARCHAR(64)
    -- ()
ALTER TABLE document_items ADD COLUMN sku VARCHAR(64)
    -- ()
ALTER TABLE document_items ADD COLUMN sku_name VARCHAR(255)
    -- ()
ALTER TABLE document_items ADD COLUMN service_start_date DATE
    -- ()
ALTER TABLE document_items ADD COLUMN service_end_date DATE
    -- ()
UPDATE alembic_version SET version_num='0008' WHERE alembic_version.version_num = '0007'
    -- ()
CREATE TABLE document_numbers (
	number VARCHAR(64) NOT NULL,
	kind VARCHAR(16) NOT NULL,
	account_number VARCHAR(64) NOT NULL,
	CONSTRAINT ck_document_numbers_kind CHECK (kind in ('Invoice', 'DebitMemo', 'CreditMemo', 'Payment'))
	CONSTRAINT pk_document_numbers PRIMARY KEY (number)
)
    -- ()
INSERT INTO document_numbers (number, kind, account_number)
    SELECT number, min(kind), min(account_number) FROM (
        SELECT number, kind, account_number FROM documents
        UNION ALL SELECT number, 'Payment', account_number FROM payments
    ) AS held GROUP BY number
    -- ()
CREATE TRIGGER documents_register_number AFTER INSERT ON documents
    BEGIN INSERT INTO document_numbers (number, kind, account_number)
          VALUES (NEW.number, NEW.kind, NEW.account_number); END
    -- ()
CREATE TRIGGER payments_register_number AFTER INSERT ON payments
    BEGIN INSERT INTO document_numbers (number, kind, account_number)
          VALUES (NEW.number, 'Payment', NEW.account_number); END
    -- ()
CREATE TABLE actors (
	name VARCHAR(100) NOT NULL,
	CONSTRAINT ck_actors_name CHECK (name <> '')
	CONSTRAINT pk_actors PRIMARY KEY (name)
)
    -- ()
CREATE TABLE actor_permissions (
	actor VARCHAR(100) NOT NULL,
	permission VARCHAR(64) NOT NULL,
	CONSTRAINT fk_actor_permissions_actor_actors FOREIGN KEY(actor) REFERENCES actors (name)
	CONSTRAINT pk_actor_permissions PRIMARY KEY (actor, permission)
)
    -- ()
SELECT 1 FROM settings LIMIT 1
    -- ()
CREATE TABLE money_bound (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      journal_debits REAL NOT NULL
    )
    -- ()
INSERT INTO money_bound (id, journal_debits) SELECT 1, total(debit) FROM journal_lines
    -- ()
CREATE TRIGGER journal_entries_money_bound AFTER INSERT ON journal_entries
    BEGIN
      UPDATE money_bound SET journal_debits = journal_debits + (
        SELECT total(l.debit) FROM journal_lines l
        WHERE l.account_number = NEW.account_number AND l.entry_seq = NEW.seq
      ) WHERE id = 1;
      SELECT RAISE(ABORT, 'subledger-limit: the book would hold more than 400,000,000,000,000 in journal debits, the most SQLite can sum exactly (a book this size belongs on PostgreSQL)')
      WHERE (SELECT journal_debits FROM money_bound WHERE id = 1) > 4000000000000000000;
    END
    -- ()
UPDATE alembic_version SET version_num='0005' WHERE alembic_version.version_num = '0008'
    -- ()
CREATE TABLE api_clients (
	client_id VARCHAR(100) NOT NULL,
	actor VARCHAR(100) NOT NULL,
	secret_hash VARCHAR(255) NOT NULL,
	created_at INTEGER NOT NULL,
	CONSTRAINT pk_api_clients PRIMARY KEY (client_id)
)
    -- ()
CREATE TABLE api_tokens (
	token_hash VARCHAR(64) NOT NULL,
	client_id VARCHAR(100) NOT NULL,
	expires_at INTEGER NOT NULL,
	CONSTRAINT fk_api_tokens_client_id_api_clients FOREIGN KEY(client_id) REFERENCES api_clients (client_id)
	CONSTRAINT pk_api_tokens PRIMARY KEY (token_hash)
)
    -- ()
CREATE INDEX ix_api_tokens_client_id ON api_tokens (client_id)
    -- ()
UPDATE alembic_version SET version_num='0009' WHERE alembic_version.version_num = '0005'
    -- ()
CREATE INDEX ix_document_items_id ON document_items (id)
    -- ()
CREATE INDEX ix_taxation_items_id ON taxation_items (id)
    -- ()
UPDATE alembic_version SET version_num='0010' WHERE alembic_version.version_num = '0009'
    -- ()
