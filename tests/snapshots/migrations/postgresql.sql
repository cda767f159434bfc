== upgrade head
SELECT pg_catalog.pg_class.relname
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace
WHERE pg_catalog.pg_class.relname IN (%(table_names_1)s::VARCHAR) AND pg_catalog.pg_class.relkind = ANY (ARRAY[%(param_1)s::VARCHAR, %(param_2)s::VARCHAR, %(param_3)s::VARCHAR, %(param_4)s::VARCHAR, %(param_5)s::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname != %(nspname_1)s::VARCHAR
    -- {'param_1': 'r', 'param_2': 'p', 'param_3': 'f', 'param_4': 'v', 'param_5': 'm', 'nspname_1': 'pg_catalog', 'table_names_1': 'alembic_version'}
SELECT pg_catalog.pg_class.relname
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace
WHERE pg_catalog.pg_class.relname IN (%(table_names_1)s::VARCHAR) AND pg_catalog.pg_class.relkind = ANY (ARRAY[%(param_1)s::VARCHAR, %(param_2)s::VARCHAR, %(param_3)s::VARCHAR, %(param_4)s::VARCHAR, %(param_5)s::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname != %(nspname_1)s::VARCHAR
    -- {'param_1': 'r', 'param_2': 'p', 'param_3': 'f', 'param_4': 'v', 'param_5': 'm', 'nspname_1': 'pg_catalog', 'table_names_1': 'alembic_version'}
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL,
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
)
    -- immutabledict({})
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
    -- immutabledict({})
CREATE TABLE customer_accounts (
	account_number VARCHAR(64) NOT NULL,
	name VARCHAR(255) NOT NULL,
	currency VARCHAR(3) NOT NULL,
	content_hash VARCHAR(64) NOT NULL,
	last_entry_seq INTEGER NOT NULL,
	last_entry_hash VARCHAR(64) NOT NULL,
	CONSTRAINT pk_customer_accounts PRIMARY KEY (account_number)
)
    -- immutabledict({})
CREATE TABLE operations (
	id SERIAL NOT NULL,
	kind VARCHAR(64) NOT NULL,
	actor VARCHAR(100) NOT NULL,
	account_number VARCHAR(64),
	document_number VARCHAR(64),
	idempotency_key VARCHAR(255),
	request_hash VARCHAR(64) NOT NULL,
	request TEXT NOT NULL,
	result TEXT,
	status VARCHAR(16) NOT NULL,
	at TIMESTAMP WITH TIME ZONE NOT NULL,
	CONSTRAINT pk_operations PRIMARY KEY (id)
	CONSTRAINT uq_operations_idempotency_key UNIQUE (idempotency_key)
)
    -- immutabledict({})
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
    -- immutabledict({})
CREATE TABLE reason_codes (
	document_type VARCHAR(16) NOT NULL,
	name VARCHAR(100) NOT NULL,
	active BOOLEAN NOT NULL,
	CONSTRAINT ck_reason_codes_document_type CHECK (document_type in ('CreditMemo', 'DebitMemo'))
	CONSTRAINT pk_reason_codes PRIMARY KEY (document_type, name)
)
    -- immutabledict({})
CREATE TABLE settings (
	key VARCHAR(100) NOT NULL,
	value TEXT NOT NULL,
	CONSTRAINT pk_settings PRIMARY KEY (key)
)
    -- immutabledict({})
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
	amount NUMERIC(24, 4) NOT NULL,
	effective_date DATE NOT NULL,
	CONSTRAINT ck_applications_source_kind CHECK (source_kind in ('Payment', 'CreditMemo'))
	CONSTRAINT fk_applications_operation_id_operations FOREIGN KEY(operation_id) REFERENCES operations (id)
	CONSTRAINT pk_applications PRIMARY KEY (account_number, id)
)
    -- immutabledict({})
CREATE INDEX ix_applications_account_number_source_number ON applications (account_number, source_number)
    -- immutabledict({})
CREATE INDEX ix_applications_account_number_target_number ON applications (account_number, target_number)
    -- immutabledict({})
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
    -- immutabledict({})
CREATE INDEX ix_documents_number ON documents (number)
    -- immutabledict({})
CREATE TABLE export_runs (
	id SERIAL NOT NULL,
	period VARCHAR(100) NOT NULL,
	format VARCHAR(16) NOT NULL,
	mode VARCHAR(16) NOT NULL,
	path TEXT NOT NULL,
	entry_count INTEGER NOT NULL,
	file_sha256 VARCHAR(64) NOT NULL,
	actor VARCHAR(100) NOT NULL,
	at TIMESTAMP WITH TIME ZONE NOT NULL,
	CONSTRAINT fk_export_runs_period_periods FOREIGN KEY(period) REFERENCES periods (name)
	CONSTRAINT pk_export_runs PRIMARY KEY (id)
)
    -- immutabledict({})
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
    -- immutabledict({})
CREATE INDEX ix_journal_entries_account_number_document_number ON journal_entries (account_number, document_number)
    -- immutabledict({})
CREATE INDEX ix_journal_entries_period_entry_date ON journal_entries (period, entry_date)
    -- immutabledict({})
CREATE TABLE payments (
	account_number VARCHAR(64) NOT NULL,
	number VARCHAR(64) NOT NULL,
	type VARCHAR(16) NOT NULL,
	status VARCHAR(16) NOT NULL,
	effective_date DATE NOT NULL,
	currency VARCHAR(3) NOT NULL,
	amount NUMERIC(24, 4) NOT NULL,
	unapplied NUMERIC(24, 4) NOT NULL,
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
    -- immutabledict({})
CREATE INDEX ix_payments_number ON payments (number)
    -- immutabledict({})
CREATE TABLE period_events (
	id SERIAL NOT NULL,
	period VARCHAR(100) NOT NULL,
	from_status VARCHAR(16) NOT NULL,
	to_status VARCHAR(16) NOT NULL,
	actor VARCHAR(100) NOT NULL,
	reason TEXT,
	fingerprint VARCHAR(64),
	at TIMESTAMP WITH TIME ZONE NOT NULL,
	CONSTRAINT fk_period_events_period_periods FOREIGN KEY(period) REFERENCES periods (name)
	CONSTRAINT pk_period_events PRIMARY KEY (id)
)
    -- immutabledict({})
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
	amount NUMERIC(24, 4) NOT NULL,
	balance NUMERIC(24, 4) NOT NULL,
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
    -- immutabledict({})
CREATE INDEX ix_document_items_account_number_document_number ON document_items (account_number, document_number)
    -- immutabledict({})
CREATE TABLE journal_lines (
	account_number VARCHAR(64) NOT NULL,
	entry_seq INTEGER NOT NULL,
	line_no INTEGER NOT NULL,
	accounting_code VARCHAR(100) NOT NULL,
	debit NUMERIC(24, 4) NOT NULL,
	credit NUMERIC(24, 4) NOT NULL,
	currency VARCHAR(3) NOT NULL,
	item_id VARCHAR(64),
	CONSTRAINT ck_journal_lines_one_side CHECK (debit >= 0 AND credit >= 0 AND (debit = 0 OR credit = 0))
	CONSTRAINT fk_journal_lines_account_number_entry_seq_journal_entries FOREIGN KEY(account_number, entry_seq) REFERENCES journal_entries (account_number, seq) DEFERRABLE INITIALLY DEFERRED
	CONSTRAINT fk_journal_lines_accounting_code_accounting_codes FOREIGN KEY(accounting_code) REFERENCES accounting_codes (name)
	CONSTRAINT pk_journal_lines PRIMARY KEY (account_number, entry_seq, line_no)
)
    -- immutabledict({})
CREATE TABLE journal_transfers (
	account_number VARCHAR(64) NOT NULL,
	entry_seq INTEGER NOT NULL,
	export_run_id INTEGER NOT NULL,
	CONSTRAINT fk_journal_transfers_account_number_entry_seq_journal_entries FOREIGN KEY(account_number, entry_seq) REFERENCES journal_entries (account_number, seq)
	CONSTRAINT fk_journal_transfers_export_run_id_export_runs FOREIGN KEY(export_run_id) REFERENCES export_runs (id)
	CONSTRAINT pk_journal_transfers PRIMARY KEY (account_number, entry_seq)
	CONSTRAINT uq_journal_transfers_account_number_entry_seq_export_run_id UNIQUE (account_number, entry_seq, export_run_id)
)
    -- immutabledict({})
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
	exempt_amount NUMERIC(24, 4),
	tax_amount NUMERIC(24, 4) NOT NULL,
	tax_date DATE,
	balance NUMERIC(24, 4) NOT NULL,
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
    -- immutabledict({})
CREATE INDEX ix_taxation_items_account_number_document_number ON taxation_items (account_number, document_number)
    -- immutabledict({})
CREATE FUNCTION subledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'posted %% are never updated or deleted', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
    END $$
    -- {}
CREATE FUNCTION subledger_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM journal_lines l
                     WHERE l.account_number = NEW.account_number AND l.entry_seq = NEW.seq)
         OR EXISTS (SELECT 1 FROM journal_lines l
                    WHERE l.account_number = NEW.account_number AND l.entry_seq = NEW.seq
                    GROUP BY l.currency HAVING sum(l.debit) <> sum(l.credit)) THEN
        RAISE EXCEPTION 'journal entry %%/%% is not balanced per currency', NEW.account_number, NEW.seq
          USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NULL;
    END $$
    -- {}
CREATE FUNCTION subledger_lines_sealed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM new_lines l JOIN journal_entries e
                 ON e.account_number = l.account_number AND e.seq = l.entry_seq) THEN
        RAISE EXCEPTION 'journal entry is posted: lines cannot be added'
          USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NULL;
    END $$
    -- {}
CREATE CONSTRAINT TRIGGER journal_entries_balanced AFTER INSERT ON journal_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION subledger_entry_balanced()
    -- {}
CREATE TRIGGER journal_lines_sealed AFTER INSERT ON journal_lines
    REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION subledger_lines_sealed()
    -- {}
CREATE TRIGGER journal_entries_immutable BEFORE UPDATE OR DELETE ON journal_entries
        FOR EACH ROW EXECUTE FUNCTION subledger_refuse_change()
    -- {}
CREATE TRIGGER journal_lines_immutable BEFORE UPDATE OR DELETE ON journal_lines
        FOR EACH ROW EXECUTE FUNCTION subledger_refuse_change()
    -- {}
INSERT INTO alembic_version (version_num) VALUES ('0001') RETURNING alembic_version.version_num
    -- {}
CREATE TABLE audit_refusals (
	id SERIAL NOT NULL,
	kind VARCHAR(64) NOT NULL,
	actor VARCHAR(100) NOT NULL,
	at TIMESTAMP WITH TIME ZONE NOT NULL,
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
    -- immutabledict({})
CREATE INDEX ix_audit_refusals_at ON audit_refusals (at)
    -- immutabledict({})
CREATE FUNCTION subledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '%% records are never updated or deleted', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
    END $$
    -- {}
CREATE TRIGGER audit_refusals_append_only BEFORE UPDATE OR DELETE ON audit_refusals
    FOR EACH ROW EXECUTE FUNCTION subledger_append_only()
    -- {}
UPDATE alembic_version SET version_num='0002' WHERE alembic_version.version_num = '0001'
    -- {}
CREATE TABLE invoice_item_adjustments (
	account_number VARCHAR(64) NOT NULL,
	number VARCHAR(64) NOT NULL,
	invoice_number VARCHAR(64) NOT NULL,
	type VARCHAR(8) NOT NULL,
	amount NUMERIC(24, 4) NOT NULL,
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
	CONSTRAINT fk_invoice_item_adjustments_account_number_invoice_numb_003e FOREIGN KEY(account_number, invoice_number) REFERENCES documents (account_number, number)
	CONSTRAINT fk_invoice_item_adjustments_accounting_code_accounting_codes FOREIGN KEY(accounting_code) REFERENCES accounting_codes (name)
	CONSTRAINT fk_invoice_item_adjustments_ar_code_accounting_codes FOREIGN KEY(ar_code) REFERENCES accounting_codes (name)
	CONSTRAINT fk_invoice_item_adjustments_deferred_revenue_account_ac_69cf FOREIGN KEY(deferred_revenue_account) REFERENCES accounting_codes (name)
	CONSTRAINT fk_invoice_item_adjustments_operation_id_operations FOREIGN KEY(operation_id) REFERENCES operations (id)
	CONSTRAINT fk_invoice_item_adjustments_recognized_revenue_account__43fa FOREIGN KEY(recognized_revenue_account) REFERENCES accounting_codes (name)
	CONSTRAINT pk_invoice_item_adjustments PRIMARY KEY (account_number, number)
)
    -- immutabledict({})
CREATE INDEX ix_invoice_item_adjustments_account_number_invoice_number ON invoice_item_adjustments (account_number, invoice_number)
    -- immutabledict({})
UPDATE alembic_version SET version_num='0003' WHERE alembic_version.version_num = '0002'
    -- {}
ALTER TABLE periods ADD COLUMN seal VARCHAR(64)
    -- immutabledict({})
UPDATE alembic_version SET version_num='0004' WHERE alembic_version.version_num = '0003'
    -- {}
ALTER TABLE journal_entries ADD COLUMN hash_version INTEGER DEFAULT '1' NOT NULL
    -- immutabledict({})
UPDATE alembic_version SET version_num='0006' WHERE alembic_version.version_num = '0004'
    -- {}
CREATE TABLE journal_runs (
	id SERIAL NOT NULL,
	number VARCHAR(16) NOT NULL,
	period VARCHAR(100) NOT NULL,
	entry_date DATE NOT NULL,
	status VARCHAR(16) NOT NULL,
	entry_count INTEGER NOT NULL,
	line_count INTEGER NOT NULL,
	created_by VARCHAR(100) NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	status_by VARCHAR(100),
	status_at TIMESTAMP WITH TIME ZONE,
	status_note TEXT,
	CONSTRAINT ck_journal_runs_status CHECK (status in ('Processing', 'Completed', 'Error', 'Cancelled'))
	CONSTRAINT fk_journal_runs_period_periods FOREIGN KEY(period) REFERENCES periods (name)
	CONSTRAINT pk_journal_runs PRIMARY KEY (id)
	CONSTRAINT uq_journal_runs_number UNIQUE (number)
)
    -- immutabledict({})
CREATE TABLE journal_run_entries (
	account_number VARCHAR(64) NOT NULL,
	entry_seq INTEGER NOT NULL,
	run_id INTEGER NOT NULL,
	CONSTRAINT fk_journal_run_entries_account_number_entry_seq_journal_entries FOREIGN KEY(account_number, entry_seq) REFERENCES journal_entries (account_number, seq)
	CONSTRAINT fk_journal_run_entries_run_id_journal_runs FOREIGN KEY(run_id) REFERENCES journal_runs (id)
	CONSTRAINT pk_journal_run_entries PRIMARY KEY (account_number, entry_seq)
)
    -- immutabledict({})
CREATE INDEX ix_journal_run_entries_run_id ON journal_run_entries (run_id)
    -- immutabledict({})
CREATE TABLE journal_run_totals (
	run_id INTEGER NOT NULL,
	transaction_type VARCHAR(64) NOT NULL,
	currency VARCHAR(3) NOT NULL,
	accounting_code VARCHAR(100) NOT NULL,
	debit NUMERIC(24, 4) NOT NULL,
	credit NUMERIC(24, 4) NOT NULL,
	CONSTRAINT fk_journal_run_totals_accounting_code_accounting_codes FOREIGN KEY(accounting_code) REFERENCES accounting_codes (name)
	CONSTRAINT fk_journal_run_totals_run_id_journal_runs FOREIGN KEY(run_id) REFERENCES journal_runs (id)
	CONSTRAINT pk_journal_run_totals PRIMARY KEY (run_id, transaction_type, currency, accounting_code)
)
    -- immutabledict({})
SELECT id, period, actor, at FROM export_runs ORDER BY id
    -- {}
INSERT INTO journal_run_entries (account_number, entry_seq, run_id) SELECT account_number, entry_seq, export_run_id FROM journal_transfers
    -- {}
INSERT INTO journal_run_totals (run_id, transaction_type, currency, accounting_code, debit, credit) SELECT r.run_id, e.transaction_type, e.currency, l.accounting_code, SUM(l.debit), SUM(l.credit) FROM journal_run_entries r JOIN journal_entries e ON e.account_number = r.account_number AND e.seq = r.entry_seq JOIN journal_lines l ON l.account_number = r.account_number AND l.entry_seq = r.entry_seq GROUP BY r.run_id, e.transaction_type, e.currency, l.accounting_code
    -- {}
UPDATE journal_runs SET entry_count = (SELECT count(*) FROM journal_run_entries r WHERE r.run_id = journal_runs.id), line_count = (SELECT count(*) FROM journal_run_entries r JOIN journal_lines l ON l.account_number = r.account_number AND l.entry_seq = r.entry_seq WHERE r.run_id = journal_runs.id)
    -- {}
SELECT setval(pg_get_serial_sequence('journal_runs', 'id'), COALESCE((SELECT max(id) FROM journal_runs), 0) + 1, false)
    -- {}
DROP TABLE journal_transfers
    -- immutabledict({})
DROP TABLE export_runs
    -- immutabledict({})
UPDATE alembic_version SET version_num='0007' WHERE alembic_version.version_num = '0006'
    -- {}
CREATE TABLE refunds (
	account_number VARCHAR(64) NOT NULL,
	number VARCHAR(64) NOT NULL,
	credit_memo_number VARCHAR(64) NOT NULL,
	type VARCHAR(16) NOT NULL,
	status VARCHAR(16) NOT NULL,
	refund_date DATE NOT NULL,
	currency VARCHAR(3) NOT NULL,
	amount NUMERIC(24, 4) NOT NULL,
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
    -- immutabledict({})
CREATE INDEX ix_refunds_account_number_credit_memo_number ON refunds (account_number, credit_memo_number)
    -- immutabledict({})
CREATE INDEX ix_refunds_number ON refunds (number)
    -- immutabledict({})
CREATE TABLE refund_items (
	account_number VARCHAR(64) NOT NULL,
	id VARCHAR(64) NOT NULL,
	refund_number VARCHAR(64) NOT NULL,
	memo_item_id VARCHAR(64) NOT NULL,
	is_tax BOOLEAN NOT NULL,
	amount NUMERIC(24, 4) NOT NULL,
	CONSTRAINT fk_refund_items_account_number_refund_number_refunds FOREIGN KEY(account_number, refund_number) REFERENCES refunds (account_number, number)
	CONSTRAINT pk_refund_items PRIMARY KEY (account_number, id)
)
    -- immutabledict({})
CREATE INDEX ix_refund_items_account_number_refund_number ON refund_items (account_number, refund_number)
    -- immutabledict({})
ALTER TABLE document_items ADD COLUMN charge_model VARCHAR(255)
    -- immutabledict({})
ALTER TABLE document_items ADD COLUMN charge_number VARCHAR(64)
    -- immutabledict({})
ALTER TABLE document_items ADD COLUMN description VARCHAR(255)
    -- immutabledict({})
ALTER TABLE document_items ADD COLUMN unit_of_measure VARCHAR(64)
    -- immutabledict({})
ALTER TABLE document_items ADD COLUMN sku VARCHAR(64)
    -- immutabledict({})
ALTER TABLE document_items ADD COLUMN sku_name VARCHAR(255)
    -- immutabledict({})
ALTER TABLE document_items ADD COLUMN service_start_date DATE
    -- immutabledict({})
ALTER TABLE document_items ADD COLUMN service_end_date DATE
    -- immutabledict({})
UPDATE alembic_version SET version_num='0008' WHERE alembic_version.version_num = '0007'
    -- {}
CREATE TABLE document_numbers (
	number VARCHAR(64) NOT NULL,
	kind VARCHAR(16) NOT NULL,
	account_number VARCHAR(64) NOT NULL,
	CONSTRAINT ck_document_numbers_kind CHECK (kind in ('Invoice', 'DebitMemo', 'CreditMemo', 'Payment'))
	CONSTRAINT pk_document_numbers PRIMARY KEY (number)
)
    -- immutabledict({})
INSERT INTO document_numbers (number, kind, account_number)
    SELECT number, min(kind), min(account_number) FROM (
        SELECT number, kind, account_number FROM documents
        UNION ALL SELECT number, 'Payment', account_number FROM payments
    ) AS held GROUP BY number
    -- {}
CREATE FUNCTION subledger_register_numbers() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_TABLE_NAME = 'payments' THEN
        INSERT INTO document_numbers (number, kind, account_number)
        SELECT r.number, 'Payment', r.account_number FROM new_rows r;
      ELSE
        INSERT INTO document_numbers (number, kind, account_number)
        SELECT r.number, r.kind, r.account_number FROM new_rows r;
      END IF;
      RETURN NULL;
    END $$
    -- {}
CREATE TRIGGER documents_register_numbers AFTER INSERT ON documents
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION subledger_register_numbers()
    -- {}
CREATE TRIGGER payments_register_numbers AFTER INSERT ON payments
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION subledger_register_numbers()
    -- {}
CREATE TABLE actors (
	name VARCHAR(100) NOT NULL,
	CONSTRAINT ck_actors_name CHECK (name <> '')
	CONSTRAINT pk_actors PRIMARY KEY (name)
)
    -- immutabledict({})
CREATE TABLE actor_permissions (
	actor VARCHAR(100) NOT NULL,
	permission VARCHAR(64) NOT NULL,
	CONSTRAINT fk_actor_permissions_actor_actors FOREIGN KEY(actor) REFERENCES actors (name)
	CONSTRAINT pk_actor_permissions PRIMARY KEY (actor, permission)
)
    -- immutabledict({})
SELECT 1 FROM settings LIMIT 1
    -- {}
ALTER TABLE operations ALTER COLUMN id TYPE BIGINT
    -- immutabledict({})
ALTER SEQUENCE operations_id_seq AS bigint
    -- {}
ALTER TABLE period_events ALTER COLUMN id TYPE BIGINT
    -- immutabledict({})
ALTER SEQUENCE period_events_id_seq AS bigint
    -- {}
ALTER TABLE audit_refusals ALTER COLUMN id TYPE BIGINT
    -- immutabledict({})
ALTER SEQUENCE audit_refusals_id_seq AS bigint
    -- {}
ALTER TABLE journal_runs ALTER COLUMN id TYPE BIGINT
    -- immutabledict({})
ALTER SEQUENCE journal_runs_id_seq AS bigint
    -- {}
ALTER TABLE documents ALTER COLUMN operation_id TYPE BIGINT
    -- immutabledict({})
ALTER TABLE payments ALTER COLUMN operation_id TYPE BIGINT
    -- immutabledict({})
ALTER TABLE applications ALTER COLUMN operation_id TYPE BIGINT
    -- immutabledict({})
ALTER TABLE journal_entries ALTER COLUMN operation_id TYPE BIGINT
    -- immutabledict({})
ALTER TABLE invoice_item_adjustments ALTER COLUMN operation_id TYPE BIGINT
    -- immutabledict({})
ALTER TABLE journal_run_entries ALTER COLUMN run_id TYPE BIGINT
    -- immutabledict({})
ALTER TABLE journal_run_totals ALTER COLUMN run_id TYPE BIGINT
    -- immutabledict({})
ALTER TABLE refunds ALTER COLUMN operation_id TYPE BIGINT
    -- immutabledict({})
ALTER TABLE refunds ALTER COLUMN cancel_operation_id TYPE BIGINT
    -- immutabledict({})
UPDATE alembic_version SET version_num='0005' WHERE alembic_version.version_num = '0008'
    -- {}
CREATE TABLE api_clients (
	client_id VARCHAR(100) NOT NULL,
	actor VARCHAR(100) NOT NULL,
	secret_hash VARCHAR(255) NOT NULL,
	created_at INTEGER NOT NULL,
	CONSTRAINT pk_api_clients PRIMARY KEY (client_id)
)
    -- immutabledict({})
CREATE TABLE api_tokens (
	token_hash VARCHAR(64) NOT NULL,
	client_id VARCHAR(100) NOT NULL,
	expires_at INTEGER NOT NULL,
	CONSTRAINT fk_api_tokens_client_id_api_clients FOREIGN KEY(client_id) REFERENCES api_clients (client_id)
	CONSTRAINT pk_api_tokens PRIMARY KEY (token_hash)
)
    -- immutabledict({})
CREATE INDEX ix_api_tokens_client_id ON api_tokens (client_id)
    -- immutabledict({})
UPDATE alembic_version SET version_num='0009' WHERE alembic_version.version_num = '0005'
    -- {}
CREATE INDEX ix_document_items_id ON document_items (id)
    -- immutabledict({})
CREATE INDEX ix_taxation_items_id ON taxation_items (id)
    -- immutabledict({})
UPDATE alembic_version SET version_num='0010' WHERE alembic_version.version_num = '0009'
    -- {}
== downgrade 0009
SELECT pg_catalog.pg_class.relname
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace
WHERE pg_catalog.pg_class.relname IN (%(table_names_1)s::VARCHAR) AND pg_catalog.pg_class.relkind = ANY (ARRAY[%(param_1)s::VARCHAR, %(param_2)s::VARCHAR, %(param_3)s::VARCHAR, %(param_4)s::VARCHAR, %(param_5)s::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname != %(nspname_1)s::VARCHAR
    -- {'param_1': 'r', 'param_2': 'p', 'param_3': 'f', 'param_4': 'v', 'param_5': 'm', 'nspname_1': 'pg_catalog', 'table_names_1': 'alembic_version'}
SELECT alembic_version.version_num
FROM alembic_version
    -- {}
DROP INDEX ix_taxation_items_id
    -- immutabledict({})
DROP INDEX ix_document_items_id
    -- immutabledict({})
UPDATE alembic_version SET version_num='0009' WHERE alembic_version.version_num = '0010'
    -- {}
== downgrade 0005
SELECT pg_catalog.pg_class.relname
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace
WHERE pg_catalog.pg_class.relname IN (%(table_names_1)s::VARCHAR) AND pg_catalog.pg_class.relkind = ANY (ARRAY[%(param_1)s::VARCHAR, %(param_2)s::VARCHAR, %(param_3)s::VARCHAR, %(param_4)s::VARCHAR, %(param_5)s::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname != %(nspname_1)s::VARCHAR
    -- {'param_1': 'r', 'param_2': 'p', 'param_3': 'f', 'param_4': 'v', 'param_5': 'm', 'nspname_1': 'pg_catalog', 'table_names_1': 'alembic_version'}
SELECT alembic_version.version_num
FROM alembic_version
    -- {}
DROP INDEX ix_api_tokens_client_id
    -- immutabledict({})
DROP TABLE api_tokens
    -- immutabledict({})
DROP TABLE api_clients
    -- immutabledict({})
UPDATE alembic_version SET version_num='0005' WHERE alembic_version.version_num = '0009'
    -- {}
== downgrade 0008
SELECT pg_catalog.pg_class.relname
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace
WHERE pg_catalog.pg_class.relname IN (%(table_names_1)s::VARCHAR) AND pg_catalog.pg_class.relkind = ANY (ARRAY[%(param_1)s::VARCHAR, %(param_2)s::VARCHAR, %(param_3)s::VARCHAR, %(param_4)s::VARCHAR, %(param_5)s::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname != %(nspname_1)s::VARCHAR
    -- {'param_1': 'r', 'param_2': 'p', 'param_3': 'f', 'param_4': 'v', 'param_5': 'm', 'nspname_1': 'pg_catalog', 'table_names_1': 'alembic_version'}
SELECT alembic_version.version_num
FROM alembic_version
    -- {}
ALTER TABLE refunds ALTER COLUMN cancel_operation_id TYPE INTEGER
    -- immutabledict({})
ALTER TABLE refunds ALTER COLUMN operation_id TYPE INTEGER
    -- immutabledict({})
ALTER TABLE journal_run_totals ALTER COLUMN run_id TYPE INTEGER
    -- immutabledict({})
ALTER TABLE journal_run_entries ALTER COLUMN run_id TYPE INTEGER
    -- immutabledict({})
ALTER TABLE invoice_item_adjustments ALTER COLUMN operation_id TYPE INTEGER
    -- immutabledict({})
ALTER TABLE journal_entries ALTER COLUMN operation_id TYPE INTEGER
    -- immutabledict({})
ALTER TABLE applications ALTER COLUMN operation_id TYPE INTEGER
    -- immutabledict({})
ALTER TABLE payments ALTER COLUMN operation_id TYPE INTEGER
    -- immutabledict({})
ALTER TABLE documents ALTER COLUMN operation_id TYPE INTEGER
    -- immutabledict({})
ALTER SEQUENCE journal_runs_id_seq AS integer
    -- {}
ALTER TABLE journal_runs ALTER COLUMN id TYPE INTEGER
    -- immutabledict({})
ALTER SEQUENCE audit_refusals_id_seq AS integer
    -- {}
ALTER TABLE audit_refusals ALTER COLUMN id TYPE INTEGER
    -- immutabledict({})
ALTER SEQUENCE period_events_id_seq AS integer
    -- {}
ALTER TABLE period_events ALTER COLUMN id TYPE INTEGER
    -- immutabledict({})
ALTER SEQUENCE operations_id_seq AS integer
    -- {}
ALTER TABLE operations ALTER COLUMN id TYPE INTEGER
    -- immutabledict({})
DROP TRIGGER documents_register_numbers ON documents
    -- {}
DROP TRIGGER payments_register_numbers ON payments
    -- {}
DROP FUNCTION subledger_register_numbers()
    -- {}
DROP TABLE actor_permissions
    -- immutabledict({})
DROP TABLE actors
    -- immutabledict({})
DROP TABLE document_numbers
    -- immutabledict({})
UPDATE alembic_version SET version_num='0008' WHERE alembic_version.version_num = '0005'
    -- {}
== downgrade 0007
SELECT pg_catalog.pg_class.relname
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace
WHERE pg_catalog.pg_class.relname IN (%(table_names_1)s::VARCHAR) AND pg_catalog.pg_class.relkind = ANY (ARRAY[%(param_1)s::VARCHAR, %(param_2)s::VARCHAR, %(param_3)s::VARCHAR, %(param_4)s::VARCHAR, %(param_5)s::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname != %(nspname_1)s::VARCHAR
    -- {'param_1': 'r', 'param_2': 'p', 'param_3': 'f', 'param_4': 'v', 'param_5': 'm', 'nspname_1': 'pg_catalog', 'table_names_1': 'alembic_version'}
SELECT alembic_version.version_num
FROM alembic_version
    -- {}
ALTER TABLE document_items DROP COLUMN service_end_date
    -- immutabledict({})
ALTER TABLE document_items DROP COLUMN service_start_date
    -- immutabledict({})
ALTER TABLE document_items DROP COLUMN sku_name
    -- immutabledict({})
ALTER TABLE document_items DROP COLUMN sku
    -- immutabledict({})
ALTER TABLE document_items DROP COLUMN unit_of_measure
    -- immutabledict({})
ALTER TABLE document_items DROP COLUMN description
    -- immutabledict({})
ALTER TABLE document_items DROP COLUMN charge_number
    -- immutabledict({})
ALTER TABLE document_items DROP COLUMN charge_model
    -- immutabledict({})
DROP INDEX ix_refund_items_account_number_refund_number
    -- immutabledict({})
DROP TABLE refund_items
    -- immutabledict({})
DROP INDEX ix_refunds_number
    -- immutabledict({})
DROP INDEX ix_refunds_account_number_credit_memo_number
    -- immutabledict({})
DROP TABLE refunds
    -- immutabledict({})
UPDATE alembic_version SET version_num='0007' WHERE alembic_version.version_num = '0008'
    -- {}
== downgrade 0006
SELECT pg_catalog.pg_class.relname
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace
WHERE pg_catalog.pg_class.relname IN (%(table_names_1)s::VARCHAR) AND pg_catalog.pg_class.relkind = ANY (ARRAY[%(param_1)s::VARCHAR, %(param_2)s::VARCHAR, %(param_3)s::VARCHAR, %(param_4)s::VARCHAR, %(param_5)s::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname != %(nspname_1)s::VARCHAR
    -- {'param_1': 'r', 'param_2': 'p', 'param_3': 'f', 'param_4': 'v', 'param_5': 'm', 'nspname_1': 'pg_catalog', 'table_names_1': 'alembic_version'}
SELECT alembic_version.version_num
FROM alembic_version
    -- {}
CREATE TABLE export_runs (
	id SERIAL NOT NULL,
	period VARCHAR(100) NOT NULL,
	format VARCHAR(16) NOT NULL,
	mode VARCHAR(16) NOT NULL,
	path TEXT NOT NULL,
	entry_count INTEGER NOT NULL,
	file_sha256 VARCHAR(64) NOT NULL,
	actor VARCHAR(100) NOT NULL,
	at TIMESTAMP WITH TIME ZONE NOT NULL,
	CONSTRAINT fk_export_runs_period_periods FOREIGN KEY(period) REFERENCES periods (name)
	CONSTRAINT pk_export_runs PRIMARY KEY (id)
)
    -- immutabledict({})
CREATE TABLE journal_transfers (
	account_number VARCHAR(64) NOT NULL,
	entry_seq INTEGER NOT NULL,
	export_run_id INTEGER NOT NULL,
	CONSTRAINT fk_journal_transfers_account_number_entry_seq_journal_entries FOREIGN KEY(account_number, entry_seq) REFERENCES journal_entries (account_number, seq)
	CONSTRAINT fk_journal_transfers_export_run_id_export_runs FOREIGN KEY(export_run_id) REFERENCES export_runs (id)
	CONSTRAINT pk_journal_transfers PRIMARY KEY (account_number, entry_seq)
	CONSTRAINT uq_journal_transfers_account_number_entry_seq_export_run_id UNIQUE (account_number, entry_seq, export_run_id)
)
    -- immutabledict({})
INSERT INTO export_runs (id, period, format, mode, path, entry_count, file_sha256, actor, at) SELECT id, period, 'csv', 'detail', '', entry_count, '', created_by, created_at FROM journal_runs WHERE status = 'Completed'
    -- {}
INSERT INTO journal_transfers (account_number, entry_seq, export_run_id) SELECT r.account_number, r.entry_seq, r.run_id FROM journal_run_entries r JOIN journal_runs j ON j.id = r.run_id WHERE j.status = 'Completed'
    -- {}
DROP TABLE journal_run_totals
    -- immutabledict({})
DROP INDEX ix_journal_run_entries_run_id
    -- immutabledict({})
DROP TABLE journal_run_entries
    -- immutabledict({})
DROP TABLE journal_runs
    -- immutabledict({})
UPDATE alembic_version SET version_num='0006' WHERE alembic_version.version_num = '0007'
    -- {}
== downgrade 0004
SELECT pg_catalog.pg_class.relname
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace
WHERE pg_catalog.pg_class.relname IN (%(table_names_1)s::VARCHAR) AND pg_catalog.pg_class.relkind = ANY (ARRAY[%(param_1)s::VARCHAR, %(param_2)s::VARCHAR, %(param_3)s::VARCHAR, %(param_4)s::VARCHAR, %(param_5)s::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname != %(nspname_1)s::VARCHAR
    -- {'param_1': 'r', 'param_2': 'p', 'param_3': 'f', 'param_4': 'v', 'param_5': 'm', 'nspname_1': 'pg_catalog', 'table_names_1': 'alembic_version'}
SELECT alembic_version.version_num
FROM alembic_version
    -- {}
ALTER TABLE journal_entries DROP COLUMN hash_version
    -- {}
UPDATE alembic_version SET version_num='0004' WHERE alembic_version.version_num = '0006'
    -- {}
== downgrade 0003
SELECT pg_catalog.pg_class.relname
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace
WHERE pg_catalog.pg_class.relname IN (%(table_names_1)s::VARCHAR) AND pg_catalog.pg_class.relkind = ANY (ARRAY[%(param_1)s::VARCHAR, %(param_2)s::VARCHAR, %(param_3)s::VARCHAR, %(param_4)s::VARCHAR, %(param_5)s::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname != %(nspname_1)s::VARCHAR
    -- {'param_1': 'r', 'param_2': 'p', 'param_3': 'f', 'param_4': 'v', 'param_5': 'm', 'nspname_1': 'pg_catalog', 'table_names_1': 'alembic_version'}
SELECT alembic_version.version_num
FROM alembic_version
    -- {}
ALTER TABLE periods DROP COLUMN seal
    -- immutabledict({})
UPDATE alembic_version SET version_num='0003' WHERE alembic_version.version_num = '0004'
    -- {}
== downgrade 0002
SELECT pg_catalog.pg_class.relname
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace
WHERE pg_catalog.pg_class.relname IN (%(table_names_1)s::VARCHAR) AND pg_catalog.pg_class.relkind = ANY (ARRAY[%(param_1)s::VARCHAR, %(param_2)s::VARCHAR, %(param_3)s::VARCHAR, %(param_4)s::VARCHAR, %(param_5)s::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname != %(nspname_1)s::VARCHAR
    -- {'param_1': 'r', 'param_2': 'p', 'param_3': 'f', 'param_4': 'v', 'param_5': 'm', 'nspname_1': 'pg_catalog', 'table_names_1': 'alembic_version'}
SELECT alembic_version.version_num
FROM alembic_version
    -- {}
DROP INDEX ix_invoice_item_adjustments_account_number_invoice_number
    -- immutabledict({})
DROP TABLE invoice_item_adjustments
    -- immutabledict({})
UPDATE alembic_version SET version_num='0002' WHERE alembic_version.version_num = '0003'
    -- {}
== downgrade 0001
SELECT pg_catalog.pg_class.relname
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace
WHERE pg_catalog.pg_class.relname IN (%(table_names_1)s::VARCHAR) AND pg_catalog.pg_class.relkind = ANY (ARRAY[%(param_1)s::VARCHAR, %(param_2)s::VARCHAR, %(param_3)s::VARCHAR, %(param_4)s::VARCHAR, %(param_5)s::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname != %(nspname_1)s::VARCHAR
    -- {'param_1': 'r', 'param_2': 'p', 'param_3': 'f', 'param_4': 'v', 'param_5': 'm', 'nspname_1': 'pg_catalog', 'table_names_1': 'alembic_version'}
SELECT alembic_version.version_num
FROM alembic_version
    -- {}
DROP TRIGGER audit_refusals_append_only ON audit_refusals
    -- {}
DROP FUNCTION subledger_append_only()
    -- {}
DROP INDEX ix_audit_refusals_at
    -- immutabledict({})
DROP TABLE audit_refusals
    -- immutabledict({})
UPDATE alembic_version SET version_num='0001' WHERE alembic_version.version_num = '0002'
    -- {}
== downgrade base
SELECT pg_catalog.pg_class.relname
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace
WHERE pg_catalog.pg_class.relname IN (%(table_names_1)s::VARCHAR) AND pg_catalog.pg_class.relkind = ANY (ARRAY[%(param_1)s::VARCHAR, %(param_2)s::VARCHAR, %(param_3)s::VARCHAR, %(param_4)s::VARCHAR, %(param_5)s::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname != %(nspname_1)s::VARCHAR
    -- {'param_1': 'r', 'param_2': 'p', 'param_3': 'f', 'param_4': 'v', 'param_5': 'm', 'nspname_1': 'pg_catalog', 'table_names_1': 'alembic_version'}
SELECT alembic_version.version_num
FROM alembic_version
    -- {}
DROP INDEX ix_taxation_items_account_number_document_number
    -- immutabledict({})
DROP TABLE taxation_items
    -- immutabledict({})
DROP TABLE journal_transfers
    -- immutabledict({})
DROP TABLE journal_lines
    -- immutabledict({})
DROP INDEX ix_document_items_account_number_document_number
    -- immutabledict({})
DROP TABLE document_items
    -- immutabledict({})
DROP TABLE period_events
    -- immutabledict({})
DROP INDEX ix_payments_number
    -- immutabledict({})
DROP TABLE payments
    -- immutabledict({})
DROP INDEX ix_journal_entries_period_entry_date
    -- immutabledict({})
DROP INDEX ix_journal_entries_account_number_document_number
    -- immutabledict({})
DROP TABLE journal_entries
    -- immutabledict({})
DROP TABLE export_runs
    -- immutabledict({})
DROP INDEX ix_documents_number
    -- immutabledict({})
DROP TABLE documents
    -- immutabledict({})
DROP INDEX ix_applications_account_number_target_number
    -- immutabledict({})
DROP INDEX ix_applications_account_number_source_number
    -- immutabledict({})
DROP TABLE applications
    -- immutabledict({})
DROP TABLE settings
    -- immutabledict({})
DROP TABLE reason_codes
    -- immutabledict({})
DROP TABLE periods
    -- immutabledict({})
DROP TABLE operations
    -- immutabledict({})
DROP TABLE customer_accounts
    -- immutabledict({})
DROP TABLE accounting_codes
    -- immutabledict({})
DROP FUNCTION IF EXISTS subledger_refuse_change()
    -- {}
DROP FUNCTION IF EXISTS subledger_entry_balanced()
    -- {}
DROP FUNCTION IF EXISTS subledger_lines_sealed()
    -- {}
DELETE FROM alembic_version WHERE alembic_version.version_num = '0001'
    -- {}
== upgrade head
SELECT pg_catalog.pg_class.relname
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace
WHERE pg_catalog.pg_class.relname IN (%(table_names_1)s::VARCHAR) AND pg_catalog.pg_class.relkind = ANY (ARRAY[%(param_1)s::VARCHAR, %(param_2)s::VARCHAR, %(param_3)s::VARCHAR, %(param_4)s::VARCHAR, %(param_5)s::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname != %(nspname_1)s::VARCHAR
    -- {'param_1': 'r', 'param_2': 'p', 'param_3': 'f', 'param_4': 'v', 'param_5': 'm', 'nspname_1': 'pg_catalog', 'table_names_1': 'alembic_version'}
SELECT alembic_version.version_num
FROM alembic_version
    -- {}
SELECT pg_catalog.pg_class.relname
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace
WHERE pg_catalog.pg_class.relname IN (%(table_names_1)s::VARCHAR) AND pg_catalog.pg_class.relkind = ANY (ARRAY[%(param_1)s::VARCHAR, %(param_2)s::VARCHAR, %(param_3)s::VARCHAR, %(param_4)s::VARCHAR, %(param_5)s::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname != %(nspname_1)s::VARCHAR
    -- {'param_1': 'r', 'param_2': 'p', 'param_3': 'f', 'param_4': 'v', 'param_5': 'm', 'nspname_1': 'pg_catalog', 'table_names_1': 'alembic_version'}
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
    -- immutabledict({})
CREATE TABLE customer_accounts (
	account_number VARCHAR(64) NOT NULL,
	name VARCHAR(255) NOT NULL,
	currency VARCHAR(3) NOT NULL,
	content_hash VARCHAR(64) NOT NULL,
	last_entry_seq INTEGER NOT NULL,
	last_entry_hash VARCHAR(64) NOT NULL,
	CONSTRAINT pk_customer_accounts PRIMARY KEY (account_number)
)
    -- immutabledict({})
CREATE TABLE operations (
	id SERIAL NOT NULL,
	kind VARCHAR(64) NOT NULL,
	actor VARCHAR(100) NOT NULL,
	account_number VARCHAR(64),
	document_number VARCHAR(64),
	idempotency_key VARCHAR(255),
	request_hash VARCHAR(64) NOT NULL,
	request TEXT NOT NULL,
	result TEXT,
	status VARCHAR(16) NOT NULL,
	at TIMESTAMP WITH TIME ZONE NOT NULL,
	CONSTRAINT pk_operations PRIMARY KEY (id)
	CONSTRAINT uq_operations_idempotency_key UNIQUE (idempotency_key)
)
    -- immutabledict({})
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
    -- immutabledict({})
CREATE TABLE reason_codes (
	document_type VARCHAR(16) NOT NULL,
	name VARCHAR(100) NOT NULL,
	active BOOLEAN NOT NULL,
	CONSTRAINT ck_reason_codes_document_type CHECK (document_type in ('CreditMemo', 'DebitMemo'))
	CONSTRAINT pk_reason_codes PRIMARY KEY (document_type, name)
)
    -- immutabledict({})
CREATE TABLE settings (
	key VARCHAR(100) NOT NULL,
	value TEXT NOT NULL,
	CONSTRAINT pk_settings PRIMARY KEY (key)
)
    -- immutabledict({})
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
	amount NUMERIC(24, 4) NOT NULL,
	effective_date DATE NOT NULL,
	CONSTRAINT ck_applications_source_kind CHECK (source_kind in ('Payment', 'CreditMemo'))
	CONSTRAINT fk_applications_operation_id_operations FOREIGN KEY(operation_id) REFERENCES operations (id)
	CONSTRAINT pk_applications PRIMARY KEY (account_number, id)
)
    -- immutabledict({})
CREATE INDEX ix_applications_account_number_source_number ON applications (account_number, source_number)
    -- immutabledict({})
CREATE INDEX ix_applications_account_number_target_number ON applications (account_number, target_number)
    -- immutabledict({})
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
    -- immutabledict({})
CREATE INDEX ix_documents_number ON documents (number)
    -- immutabledict({})
CREATE TABLE export_runs (
	id SERIAL NOT NULL,
	period VARCHAR(100) NOT NULL,
	format VARCHAR(16) NOT NULL,
	mode VARCHAR(16) NOT NULL,
	path TEXT NOT NULL,
	entry_count INTEGER NOT NULL,
	file_sha256 VARCHAR(64) NOT NULL,
	actor VARCHAR(100) NOT NULL,
	at TIMESTAMP WITH TIME ZONE NOT NULL,
	CONSTRAINT fk_export_runs_period_periods FOREIGN KEY(period) REFERENCES periods (name)
	CONSTRAINT pk_export_runs PRIMARY KEY (id)
)
    -- immutabledict({})
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
    -- immutabledict({})
CREATE INDEX ix_journal_entries_account_number_document_number ON journal_entries (account_number, document_number)
    -- immutabledict({})
CREATE INDEX ix_journal_entries_period_entry_date ON journal_entries (period, entry_date)
    -- immutabledict({})
CREATE TABLE payments (
	account_number VARCHAR(64) NOT NULL,
	number VARCHAR(64) NOT NULL,
	type VARCHAR(16) NOT NULL,
	status VARCHAR(16) NOT NULL,
	effective_date DATE NOT NULL,
	currency VARCHAR(3) NOT NULL,
	amount NUMERIC(24, 4) NOT NULL,
	unapplied NUMERIC(24, 4) NOT NULL,
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
    -- immutabledict({})
CREATE INDEX ix_payments_number ON payments (number)
    -- immutabledict({})
CREATE TABLE period_events (
	id SERIAL NOT NULL,
	period VARCHAR(100) NOT NULL,
	from_status VARCHAR(16) NOT NULL,
	to_status VARCHAR(16) NOT NULL,
	actor VARCHAR(100) NOT NULL,
	reason TEXT,
	fingerprint VARCHAR(64),
	at TIMESTAMP WITH TIME ZONE NOT NULL,
	CONSTRAINT fk_period_events_period_periods FOREIGN KEY(period) REFERENCES periods (name)
	CONSTRAINT pk_period_events PRIMARY KEY (id)
)
    -- immutabledict({})
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
	amount NUMERIC(24, 4) NOT NULL,
	balance NUMERIC(24, 4) NOT NULL,
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
    -- immutabledict({})
CREATE INDEX ix_document_items_account_number_document_number ON document_items (account_number, document_number)
    -- immutabledict({})
CREATE TABLE journal_lines (
	account_number VARCHAR(64) NOT NULL,
	entry_seq INTEGER NOT NULL,
	line_no INTEGER NOT NULL,
	accounting_code VARCHAR(100) NOT NULL,
	debit NUMERIC(24, 4) NOT NULL,
	credit NUMERIC(24, 4) NOT NULL,
	currency VARCHAR(3) NOT NULL,
	item_id VARCHAR(64),
	CONSTRAINT ck_journal_lines_one_side CHECK (debit >= 0 AND credit >= 0 AND (debit = 0 OR credit = 0))
	CONSTRAINT fk_journal_lines_account_number_entry_seq_journal_entries FOREIGN KEY(account_number, entry_seq) REFERENCES journal_entries (account_number, seq) DEFERRABLE INITIALLY DEFERRED
	CONSTRAINT fk_journal_lines_accounting_code_accounting_codes FOREIGN KEY(accounting_code) REFERENCES accounting_codes (name)
	CONSTRAINT pk_journal_lines PRIMARY KEY (account_number, entry_seq, line_no)
)
    -- immutabledict({})
CREATE TABLE journal_transfers (
	account_number VARCHAR(64) NOT NULL,
	entry_seq INTEGER NOT NULL,
	export_run_id INTEGER NOT NULL,
	CONSTRAINT fk_journal_transfers_account_number_entry_seq_journal_entries FOREIGN KEY(account_number, entry_seq) REFERENCES journal_entries (account_number, seq)
	CONSTRAINT fk_journal_transfers_export_run_id_export_runs FOREIGN KEY(export_run_id) REFERENCES export_runs (id)
	CONSTRAINT pk_journal_transfers PRIMARY KEY (account_number, entry_seq)
	CONSTRAINT uq_journal_transfers_account_number_entry_seq_export_run_id UNIQUE (account_number, entry_seq, export_run_id)
)
    -- immutabledict({})
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
	exempt_amount NUMERIC(24, 4),
	tax_amount NUMERIC(24, 4) NOT NULL,
	tax_date DATE,
	balance NUMERIC(24, 4) NOT NULL,
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
    -- immutabledict({})
CREATE INDEX ix_taxation_items_account_number_document_number ON taxation_items (account_number, document_number)
    -- immutabledict({})
CREATE FUNCTION subledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'posted %% are never updated or deleted', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
    END $$
    -- {}
CREATE FUNCTION subledger_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM journal_lines l
                     WHERE l.account_number = NEW.account_number AND l.entry_seq = NEW.seq)
         OR EXISTS (SELECT 1 FROM journal_lines l
                    WHERE l.account_number = NEW.account_number AND l.entry_seq = NEW.seq
                    GROUP BY l.currency HAVING sum(l.debit) <> sum(l.credit)) THEN
        RAISE EXCEPTION 'journal entry %%/%% is not balanced per currency', NEW.account_number, NEW.seq
          USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NULL;
    END $$
    -- {}
CREATE FUNCTION subledger_lines_sealed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM new_lines l JOIN journal_entries e
                 ON e.account_number = l.account_number AND e.seq = l.entry_seq) THEN
        RAISE EXCEPTION 'journal entry is posted: lines cannot be added'
          USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NULL;
    END $$
    -- {}
CREATE CONSTRAINT TRIGGER journal_entries_balanced AFTER INSERT ON journal_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION subledger_entry_balanced()
    -- {}
CREATE TRIGGER journal_lines_sealed AFTER INSERT ON journal_lines
    REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION subledger_lines_sealed()
    -- {}
CREATE TRIGGER journal_entries_immutable BEFORE UPDATE OR DELETE ON journal_entries
        FOR EACH ROW EXECUTE FUNCTION subledger_refuse_change()
    -- {}
CREATE TRIGGER journal_lines_immutable BEFORE UPDATE OR DELETE ON journal_lines
        FOR EACH ROW EXECUTE FUNCTION subledger_refuse_change()
    -- {}
INSERT INTO alembic_version (version_num) VALUES ('0001') RETURNING alembic_version.version_num
    -- {}
CREATE TABLE audit_refusals (
	id SERIAL NOT NULL,
	kind VARCHAR(64) NOT NULL,
	actor VARCHAR(100) NOT NULL,
	at TIMESTAMP WITH TIME ZONE NOT NULL,
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
    -- immutabledict({})
CREATE INDEX ix_audit_refusals_at ON audit_refusals (at)
    -- immutabledict({})
CREATE FUNCTION subledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '%% records are never updated or deleted', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
    END $$
    -- {}
CREATE TRIGGER audit_refusals_append_only BEFORE UPDATE OR DELETE ON audit_refusals
    FOR EACH ROW EXECUTE FUNCTION subledger_append_only()
    -- {}
UPDATE alembic_version SET version_num='0002' WHERE alembic_version.version_num = '0001'
    -- {}
CREATE TABLE invoice_item_adjustments (
	account_number VARCHAR(64) NOT NULL,
	number VARCHAR(64) NOT NULL,
	invoice_number VARCHAR(64) NOT NULL,
	type VARCHAR(8) NOT NULL,
	amount NUMERIC(24, 4) NOT NULL,
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
	CONSTRAINT fk_invoice_item_adjustments_account_number_invoice_numb_003e FOREIGN KEY(account_number, invoice_number) REFERENCES documents (account_number, number)
	CONSTRAINT fk_invoice_item_adjustments_accounting_code_accounting_codes FOREIGN KEY(accounting_code) REFERENCES accounting_codes (name)
	CONSTRAINT fk_invoice_item_adjustments_ar_code_accounting_codes FOREIGN KEY(ar_code) REFERENCES accounting_codes (name)
	CONSTRAINT fk_invoice_item_adjustments_deferred_revenue_account_ac_69cf FOREIGN KEY(deferred_revenue_account) REFERENCES accounting_codes (name)
	CONSTRAINT fk_invoice_item_adjustments_operation_id_operations FOREIGN KEY(operation_id) REFERENCES operations (id)
	CONSTRAINT fk_invoice_item_adjustments_recognized_revenue_account__43fa FOREIGN KEY(recognized_revenue_account) REFERENCES accounting_codes (name)
	CONSTRAINT pk_invoice_item_adjustments PRIMARY KEY (account_number, number)
)
    -- immutabledict({})
CREATE INDEX ix_invoice_item_adjustments_account_number_invoice_number ON invoice_item_adjustments (account_number, invoice_number)
    -- immutabledict({})
UPDATE alembic_version SET version_num='0003' WHERE alembic_version.version_num = '0002'
    -- {}
ALTER TABLE periods ADD COLUMN seal VARCHAR(64)
    -- immutabledict({})
UPDATE alembic_version SET version_num='0004' WHERE alembic_version.version_num = '0003'
    -- {}
ALTER TABLE journal_entries ADD COLUMN hash_version INTEGER DEFAULT '1' NOT NULL
    -- immutabledict({})
UPDATE alembic_version SET version_num='0006' WHERE alembic_version.version_num = '0004'
    -- {}
CREATE TABLE journal_runs (
	id SERIAL NOT NULL,
	number VARCHAR(16) NOT NULL,
	period VARCHAR(100) NOT NULL,
	entry_date DATE NOT NULL,
	status VARCHAR(16) NOT NULL,
	entry_count INTEGER NOT NULL,
	line_count INTEGER NOT NULL,
	created_by VARCHAR(100) NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	status_by VARCHAR(100),
	status_at TIMESTAMP WITH TIME ZONE,
	status_note TEXT,
	CONSTRAINT ck_journal_runs_status CHECK (status in ('Processing', 'Completed', 'Error', 'Cancelled'))
	CONSTRAINT fk_journal_runs_period_periods FOREIGN KEY(period) REFERENCES periods (name)
	CONSTRAINT pk_journal_runs PRIMARY KEY (id)
	CONSTRAINT uq_journal_runs_number UNIQUE (number)
)
    -- immutabledict({})
CREATE TABLE journal_run_entries (
	account_number VARCHAR(64) NOT NULL,
	entry_seq INTEGER NOT NULL,
	run_id INTEGER NOT NULL,
	CONSTRAINT fk_journal_run_entries_account_number_entry_seq_journal_entries FOREIGN KEY(account_number, entry_seq) REFERENCES journal_entries (account_number, seq)
	CONSTRAINT fk_journal_run_entries_run_id_journal_runs FOREIGN KEY(run_id) REFERENCES journal_runs (id)
	CONSTRAINT pk_journal_run_entries PRIMARY KEY (account_number, entry_seq)
)
    -- immutabledict({})
CREATE INDEX ix_journal_run_entries_run_id ON journal_run_entries (run_id)
    -- immutabledict({})
CREATE TABLE journal_run_totals (
	run_id INTEGER NOT NULL,
	transaction_type VARCHAR(64) NOT NULL,
	currency VARCHAR(3) NOT NULL,
	accounting_code VARCHAR(100) NOT NULL,
	debit NUMERIC(24, 4) NOT NULL,
	credit NUMERIC(24, 4) NOT NULL,
	CONSTRAINT fk_journal_run_totals_accounting_code_accounting_codes FOREIGN KEY(accounting_code) REFERENCES accounting_codes (name)
	CONSTRAINT fk_journal_run_totals_run_id_journal_runs FOREIGN KEY(run_id) REFERENCES journal_runs (id)
	CONSTRAINT pk_journal_run_totals PRIMARY KEY (run_id, transaction_type, currency, accounting_code)
)
    -- immutabledict({})
SELECT id, period, actor, at FROM export_runs ORDER BY id
    -- {}
INSERT INTO journal_run_entries (account_number, entry_seq, run_id) SELECT account_number, entry_seq, export_run_id FROM journal_transfers
    -- {}
INSERT INTO journal_run_totals (run_id, transaction_type, currency, accounting_code, debit, credit) SELECT r.run_id, e.transaction_type, e.currency, l.accounting_code, SUM(l.debit), SUM(l.credit) FROM journal_run_entries r JOIN journal_entries e ON e.account_number = r.account_number AND e.seq = r.entry_seq JOIN journal_lines l ON l.account_number = r.account_number AND l.entry_seq = r.entry_seq GROUP BY r.run_id, e.transaction_type, e.currency, l.accounting_code
    -- {}
UPDATE journal_runs SET entry_count = (SELECT count(*) FROM journal_run_entries r WHERE r.run_id = journal_runs.id), line_count = (SELECT count(*) FROM journal_run_entries r JOIN journal_lines l ON l.account_number = r.account_number AND l.entry_seq = r.entry_seq WHERE r.run_id = journal_runs.id)
    -- {}
SELECT setval(pg_get_serial_sequence('journal_runs', 'id'), COALESCE((SELECT max(id) FROM journal_runs), 0) + 1, false)
    -- {}
DROP TABLE journal_transfers
    -- immutabledict({})
DROP TABLE export_runs
    -- immutabledict({})
UPDATE alembic_version SET version_num='0007' WHERE alembic_version.version_num = '0006'
    -- {}
CREATE TABLE refunds (
	account_number VARCHAR(64) NOT NULL,
	number VARCHAR(64) NOT NULL,
	credit_memo_number VARCHAR(64) NOT NULL,
	type VARCHAR(16) NOT NULL,
	status VARCHAR(16) NOT NULL,
	refund_date DATE NOT NULL,
	currency VARCHAR(3) NOT NULL,
	amount NUMERIC(24, 4) NOT NULL,
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
    -- immutabledict({})
CREATE INDEX ix_refunds_account_number_credit_memo_number ON refunds (account_number, credit_memo_number)
    -- immutabledict({})
CREATE INDEX ix_refunds_number ON refunds (number)
    -- immutabledict({})
CREATE TABLE refund_items (
	account_number VARCHAR(64) NOT NULL,
	id VARCHAR(64) NOT NULL,
	refund_number VARCHAR(64) NOT NULL,
	memo_item_id VARCHAR(64) NOT NULL,
	is_tax BOOLEAN NOT NULL,
	amount NUMERIC(24, 4) NOT NULL,
	CONSTRAINT fk_refund_items_account_number_refund_number_refunds FOREIGN KEY(account_number, refund_number) REFERENCES refunds (account_number, number)
	CONSTRAINT pk_refund_items PRIMARY KEY (account_number, id)
)
    -- immutabledict({})
CREATE INDEX ix_refund_items_account_number_refund_number ON refund_items (account_number, refund_number)
    -- immutabledict({})
ALTER TABLE document_items ADD COLUMN charge_model VARCHAR(255)
    -- immutabledict({})
ALTER TABLE document_items ADD COLUMN charge_number VARCHAR(64)
    -- immutabledict({})
ALTER TABLE document_items ADD COLUMN description VARCHAR(255)
    -- immutabledict({})
ALTER TABLE document_items ADD COLUMN unit_of_measure VARCHAR(64)
    -- immutabledict({})
ALTER TABLE document_items ADD COLUMN sku VARCHAR(64)
    -- immutabledict({})
ALTER TABLE document_items ADD COLUMN sku_name VARCHAR(255)
    -- immutabledict({})
ALTER TABLE document_items ADD COLUMN service_start_date DATE
    -- immutabledict({})
ALTER TABLE document_items ADD COLUMN service_end_date DATE
    -- immutabledict({})
UPDATE alembic_version SET version_num='0008' WHERE alembic_version.version_num = '0007'
    -- {}
CREATE TABLE document_numbers (
	number VARCHAR(64) NOT NULL,
	kind VARCHAR(16) NOT NULL,
	account_number VARCHAR(64) NOT NULL,
	CONSTRAINT ck_document_numbers_kind CHECK (kind in ('Invoice', 'DebitMemo', 'CreditMemo', 'Payment'))
	CONSTRAINT pk_document_numbers PRIMARY KEY (number)
)
    -- immutabledict({})
INSERT INTO document_numbers (number, kind, account_number)
    SELECT number, min(kind), min(account_number) FROM (
        SELECT number, kind, account_number FROM documents
        UNION ALL SELECT number, 'Payment', account_number FROM payments
    ) AS held GROUP BY number
    -- {}
CREATE FUNCTION subledger_register_numbers() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_TABLE_NAME = 'payments' THEN
        INSERT INTO document_numbers (number, kind, account_number)
        SELECT r.number, 'Payment', r.account_number FROM new_rows r;
      ELSE
        INSERT INTO document_numbers (number, kind, account_number)
        SELECT r.number, r.kind, r.account_number FROM new_rows r;
      END IF;
      RETURN NULL;
    END $$
    -- {}
CREATE TRIGGER documents_register_numbers AFTER INSERT ON documents
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION subledger_register_numbers()
    -- {}
CREATE TRIGGER payments_register_numbers AFTER INSERT ON payments
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION subledger_register_numbers()
    -- {}
CREATE TABLE actors (
	name VARCHAR(100) NOT NULL,
	CONSTRAINT ck_actors_name CHECK (name <> '')
	CONSTRAINT pk_actors PRIMARY KEY (name)
)
    -- immutabledict({})
CREATE TABLE actor_permissions (
	actor VARCHAR(100) NOT NULL,
	permission VARCHAR(64) NOT NULL,
	CONSTRAINT fk_actor_permissions_actor_actors FOREIGN KEY(actor) REFERENCES actors (name)
	CONSTRAINT pk_actor_permissions PRIMARY KEY (actor, permission)
)
    -- immutabledict({})
SELECT 1 FROM settings LIMIT 1
    -- {}
ALTER TABLE operations ALTER COLUMN id TYPE BIGINT
    -- immutabledict({})
ALTER SEQUENCE operations_id_seq AS bigint
    -- {}
ALTER TABLE period_events ALTER COLUMN id TYPE BIGINT
    -- immutabledict({})
ALTER SEQUENCE period_events_id_seq AS bigint
    -- {}
ALTER TABLE audit_refusals ALTER COLUMN id TYPE BIGINT
    -- immutabledict({})
ALTER SEQUENCE audit_refusals_id_seq AS bigint
    -- {}
ALTER TABLE journal_runs ALTER COLUMN id TYPE BIGINT
    -- immutabledict({})
ALTER SEQUENCE journal_runs_id_seq AS bigint
    -- {}
ALTER TABLE documents ALTER COLUMN operation_id TYPE BIGINT
    -- immutabledict({})
ALTER TABLE payments ALTER COLUMN operation_id TYPE BIGINT
    -- immutabledict({})
ALTER TABLE applications ALTER COLUMN operation_id TYPE BIGINT
    -- immutabledict({})
ALTER TABLE journal_entries ALTER COLUMN operation_id TYPE BIGINT
    -- immutabledict({})
ALTER TABLE invoice_item_adjustments ALTER COLUMN operation_id TYPE BIGINT
    -- immutabledict({})
ALTER TABLE journal_run_entries ALTER COLUMN run_id TYPE BIGINT
    -- immutabledict({})
ALTER TABLE journal_run_totals ALTER COLUMN run_id TYPE BIGINT
    -- immutabledict({})
ALTER TABLE refunds ALTER COLUMN operation_id TYPE BIGINT
    -- immutabledict({})
ALTER TABLE refunds ALTER COLUMN cancel_operation_id TYPE BIGINT
    -- immutabledict({})
UPDATE alembic_version SET version_num='0005' WHERE alembic_version.version_num = '0008'
    -- {}
CREATE TABLE api_clients (
	client_id VARCHAR(100) NOT NULL,
	actor VARCHAR(100) NOT NULL,
	secret_hash VARCHAR(255) NOT NULL,
	created_at INTEGER NOT NULL,
	CONSTRAINT pk_api_clients PRIMARY KEY (client_id)
)
    -- immutabledict({})
CREATE TABLE api_tokens (
	token_hash VARCHAR(64) NOT NULL,
	client_id VARCHAR(100) NOT NULL,
	expires_at INTEGER NOT NULL,
	CONSTRAINT fk_api_tokens_client_id_api_clients FOREIGN KEY(client_id) REFERENCES api_clients (client_id)
	CONSTRAINT pk_api_tokens PRIMARY KEY (token_hash)
)
    -- immutabledict({})
CREATE INDEX ix_api_tokens_client_id ON api_tokens (client_id)
    -- immutabledict({})
UPDATE alembic_version SET version_num='0009' WHERE alembic_version.version_num = '0005'
    -- {}
CREATE INDEX ix_document_items_id ON document_items (id)
    -- immutabledict({})
CREATE INDEX ix_taxation_items_id ON taxation_items (id)
    -- immutabledict({})
UPDATE alembic_version SET version_num='0010' WHERE alembic_version.version_num = '0009'
    -- {}
