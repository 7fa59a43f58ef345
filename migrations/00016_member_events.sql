-- +goose Up
-- Members' changes become member.* events (00015 audits the members table;
-- without this, the catch-all typed them tenant.updated). A login only
-- moves last_login_*: bookkeeping, no event, as a billing run's next date.
INSERT INTO event_types (type, object, by_id) VALUES
    ('member.invited', 'members', true),
    ('member.joined', 'members', true),
    ('member.role_changed', 'members', true),
    ('member.deactivated', 'members', true),
    ('member.removed', 'members', true),
    ('member.updated', 'members', true);

ALTER FUNCTION event_type(text, text, text, jsonb) RENAME TO event_type_before_members;
-- +goose StatementBegin
CREATE FUNCTION event_type(action text, tbl text, op text, changes jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN tbl <> 'members' THEN event_type_before_members(action, tbl, op, changes)
        WHEN op = 'INSERT' THEN 'member.invited'
        WHEN op = 'DELETE' THEN 'member.removed'
        WHEN (SELECT bool_and(k LIKE 'last\_login\_%' OR k = 'version') FROM jsonb_object_keys(changes) AS k) THEN NULL
        WHEN changes -> 'status' ->> 'after' = 'ACTIVE' THEN 'member.joined'
        WHEN changes -> 'status' ->> 'after' = 'DEACTIVATED' THEN 'member.deactivated'
        WHEN changes ? 'role' THEN 'member.role_changed'
        ELSE 'member.updated' END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION event_type(text, text, text, jsonb);
ALTER FUNCTION event_type_before_members(text, text, text, jsonb) RENAME TO event_type;
DELETE FROM event_types WHERE type LIKE 'member.%';
