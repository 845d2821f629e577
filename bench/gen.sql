-- Benchmark rows for the test schema (tests/fixtures/schema.sql), about
-- :scale x 1 GB of tables: most of it in users (full tables in the scope) and
-- transaction tables whose rows spread over 150 days (60% inside the 3-month
-- window), the rest in tables never backed up (sessions, logs, audit_logs).
-- Everything is INSERT ... SELECT generate_series: no client round trips.
-- Keys are md5(name-N)::uuid so references need no join; foreign keys are
-- right by construction and their triggers are off while loading.
-- psql -v scale=N -f gen.sql (N may be a fraction, for a quick try)

\set ON_ERROR_STOP 1
SET session_replication_role = replica;
SET synchronous_commit = off;
\set nusers '((500000 * :scale)::int)'
\set norgs '((2000 * :scale)::int)'

INSERT INTO currencies VALUES ('THB', 'Thai baht', '฿'), ('USD', 'US dollar', '$'),
	('EUR', 'Euro', '€');
INSERT INTO plans (id, name, price, currency, features)
SELECT md5('plan-' || i)::uuid, 'plan ' || i, i * 299, 'THB',
	jsonb_build_object('tier', i, 'api_calls', i * 10000, 'support', i > 2)
FROM generate_series(1, 4) i;

INSERT INTO organizations (id, name, parent_id, settings, created_at, updated_at)
SELECT md5('org-' || i)::uuid, 'Organization ' || i || ' Co., Ltd.',
	CASE WHEN i > 20 THEN md5('org-' || (i % 20 + 1))::uuid END,
	jsonb_build_object('theme', CASE WHEN i % 2 = 0 THEN 'dark' ELSE 'light' END,
		'seats', i % 50 + 1, 'billing_email', 'billing' || i || '@org.example'),
	now() - (i % 900) * interval '1 day', now() - (i % 30) * interval '1 day'
FROM generate_series(1, :norgs) i;

INSERT INTO agencies (id, organization_id, name, commission_rate, created_at)
SELECT md5('agency-' || i)::uuid, md5('org-' || (i % :norgs + 1))::uuid,
	'Agency ' || i, (i % 30) / 2.0, now() - (i % 700) * interval '1 day'
FROM generate_series(1, :norgs / 2) i;

INSERT INTO users (id, email, name, bio, role, tags, metadata, avatar, plan_id,
	organization_id, referred_by, credits, points, is_active, created_at, updated_at)
SELECT md5('user-' || i)::uuid,
	'user' || i || '@mail' || (i % 97) || '.example.com',
	(ARRAY['Somchai', 'Suda', 'Anan', 'Malee', 'John', 'Mary', 'Wei', 'Aiko'])[i % 8 + 1]
		|| ' ' || (ARRAY['Sukjai', 'Wongsa', 'Smith', 'Tanaka', 'Chen', 'Boonmee'])[i % 6 + 1]
		|| ' ' || i,
	CASE WHEN i % 4 <> 0 THEN
		(ARRAY['Building chatbots for a small online shop.',
		       'Marketing lead; uses the image tools every day.',
		       'Student, writing a thesis on language models.',
		       'นักพัฒนาซอฟต์แวร์ ชอบทดลองโมเดลใหม่ ๆ',
		       'Freelance translator (TH/EN/JP).',
		       'Runs a content agency with twelve writers.'])[i % 6 + 1]
		|| ' ' || substr(md5('bio' || i), 1, i % 20) END,
	(CASE WHEN i % 500 = 0 THEN 'ADMIN' ELSE 'USER' END)::"Role",
	ARRAY['tag' || (i % 13), 'cohort-' || (i % 24)],
	jsonb_build_object('locale', CASE WHEN i % 3 = 0 THEN 'th-TH' ELSE 'en-US' END,
		'signup_source', (ARRAY['web', 'ios', 'android', 'referral'])[i % 4 + 1],
		'newsletter', i % 2 = 0, 'last_ip', '10.' || (i % 256) || '.' || (i / 256 % 256)
		|| '.' || (i % 251)),
	CASE WHEN i % 40 = 0 THEN decode(md5('a' || i) || md5('b' || i), 'hex') END,
	md5('plan-' || (i % 4 + 1))::uuid,
	CASE WHEN i % 5 = 0 THEN md5('org-' || (i % :norgs + 1))::uuid END,
	CASE WHEN i > 10 AND i % 10 = 0 THEN md5('user-' || (i / 10))::uuid END,
	(i * 37) % 100000, (i * 13) % 5000, i % 20 <> 0,
	now() - (i % 1000) * interval '1 day' - (i % 86400) * interval '1 second',
	now() - (i % 100) * interval '1 day'
FROM generate_series(1, :nusers) i;

INSERT INTO user_roles (user_id, role, granted_at)
SELECT md5('user-' || i)::uuid, (CASE WHEN i % 500 = 0 THEN 'ADMIN' ELSE 'USER' END)::"Role",
	now() - (i % 1000) * interval '1 day'
FROM generate_series(1, :nusers) i;

INSERT INTO referrals (referrer_id, referee_id, agency_id, code, reward_points, created_at)
SELECT md5('user-' || i)::uuid, md5('user-' || (i * 10))::uuid,
	CASE WHEN i % 3 = 0 THEN md5('agency-' || (i % (:norgs / 2) + 1))::uuid END,
	'REF' || upper(substr(md5('ref' || i), 1, 10)), (i % 5) * 50,
	now() - (i % 900) * interval '1 day'
FROM generate_series(1, :nusers / 10) i;

INSERT INTO exchange_rates (from_currency, to_currency, rate, effective_at)
SELECT c.f, c.t, 1 + (i % 1000) / 1000.0, now() - i * interval '1 hour'
FROM generate_series(1, (2000 * :scale)::int) i,
	(VALUES ('USD', 'THB'), ('EUR', 'THB'), ('THB', 'USD')) c(f, t);

INSERT INTO system_settings (key, value, description, updated_at)
SELECT 'setting.' || i, jsonb_build_object('enabled', i % 2 = 0, 'limit', i * 10),
	'Setting number ' || i, now()
FROM generate_series(1, 200) i;

-- Transactions: created_at over the last 150 days, 60% in the window.
INSERT INTO credit_transactions (user_id, type, amount, balance_after, description,
	metadata, created_at)
SELECT md5('user-' || (i::bigint * 7919 % :nusers + 1))::uuid,
	(ARRAY['PURCHASE', 'USAGE', 'USAGE', 'USAGE', 'REFUND', 'BONUS'])[i % 6 + 1]::"TransactionType",
	CASE WHEN i % 6 IN (1, 2, 3) THEN -(i % 500) - 1 ELSE (i % 50) * 100 + 100 END,
	(i * 31) % 100000,
	(ARRAY['Credit purchase', 'API usage: chat completion', 'API usage: image generation',
	       'API usage: speech to text', 'Refund for a failed job', 'Monthly bonus'])[i % 6 + 1]
		|| ' #' || i,
	CASE WHEN i % 3 = 0 THEN jsonb_build_object('model',
		(ARRAY['gpt-4o', 'claude-sonnet', 'gemini-pro', 'llama-3'])[i % 4 + 1],
		'tokens', (i * 7) % 4000, 'request_id', md5('req' || i)) END,
	now() - (i % 150) * interval '1 day' - (i % 86399) * interval '1 second'
FROM generate_series(1, (1300000 * :scale)::int) i;

INSERT INTO point_transactions (user_id, type, points, description, created_at)
SELECT md5('user-' || (i::bigint * 104729 % :nusers + 1))::uuid,
	(ARRAY['BONUS', 'USAGE', 'TRANSFER_IN', 'TRANSFER_OUT', 'ADJUSTMENT'])[i % 5 + 1]::"TransactionType",
	(i % 200) - 100,
	(ARRAY['Daily login', 'Referral reward', 'Redeemed for credits', 'Campaign bonus',
	       'Manual adjustment by support'])[i % 5 + 1],
	now() - (i % 150) * interval '1 day' - (i % 86389) * interval '1 second'
FROM generate_series(1, (1000000 * :scale)::int) i;

INSERT INTO purchases (id, user_id, status, amount, currency, items, receipt, created_at)
SELECT md5('purchase-' || i)::uuid, md5('user-' || (i::bigint * 15485863 % :nusers + 1))::uuid,
	(ARRAY['COMPLETED', 'COMPLETED', 'COMPLETED', 'PENDING', 'FAILED', 'REFUNDED'])[i % 6 + 1]::"PurchaseStatus",
	(i % 100) * 99 + 99, CASE WHEN i % 4 = 0 THEN 'USD' ELSE 'THB' END,
	jsonb_build_array(jsonb_build_object('sku', 'CREDIT-' || (i % 10 + 1) * 100,
		'qty', i % 3 + 1, 'price', (i % 10 + 1) * 99)),
	CASE WHEN i % 10 = 0 THEN convert_to('receipt ' || md5('r' || i), 'UTF8') END,
	now() - (i % 150) * interval '1 day' - (i % 86371) * interval '1 second'
FROM generate_series(1, (250000 * :scale)::int) i;

INSERT INTO transfers (from_user_id, to_user_id, amount, note, created_at)
SELECT md5('user-' || (i % :nusers + 1))::uuid, md5('user-' || ((i + 1) % :nusers + 1))::uuid,
	i % 1000 + 1, CASE WHEN i % 2 = 0 THEN 'for the team account' END,
	now() - (i % 150) * interval '1 day' - (i % 86353) * interval '1 second'
FROM generate_series(1, (250000 * :scale)::int) i;

-- Never backed up.
INSERT INTO sessions (user_id, token, expires_at, created_at)
SELECT md5('user-' || (i % :nusers + 1))::uuid, md5('tok' || i) || md5('en' || i),
	now() + (i % 30) * interval '1 day', now() - (i % 30) * interval '1 day'
FROM generate_series(1, (150000 * :scale)::int) i;

INSERT INTO logs (level, message, created_at)
SELECT (ARRAY['info', 'info', 'info', 'warn', 'error'])[i % 5 + 1],
	'request ' || md5('log' || i) || ' handled in ' || (i % 900) || ' ms',
	now() - (i % 60) * interval '1 day'
FROM generate_series(1, (500000 * :scale)::int) i;

INSERT INTO audit_logs (user_id, action, details, created_at)
SELECT md5('user-' || (i % :nusers + 1))::uuid,
	(ARRAY['login', 'logout', 'update_profile', 'create_api_key'])[i % 4 + 1],
	jsonb_build_object('ip', '10.0.' || (i % 256) || '.' || (i % 200), 'ua', 'Mozilla/5.0'),
	now() - (i % 90) * interval '1 day'
FROM generate_series(1, (300000 * :scale)::int) i;
