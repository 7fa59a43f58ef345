-- +goose Up
-- Screening industries take NAICS 2022 codes at every level (2 to 6
-- digits, or a sector range), not only the 20 sectors: the catalog is
-- tenant.AllIndustries (tenant/naics2022.csv), checked by the API; this
-- CHECK keeps the codes' form.
-- +goose StatementBegin
CREATE FUNCTION naics_codes_well_formed(codes text[]) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT coalesce(bool_and(c ~ '^([0-9]{2,6}|31-33|44-45|48-49)$'), true) FROM unnest(codes) AS c $$;
-- +goose StatementEnd
ALTER TABLE screening_industries DROP CONSTRAINT screening_industries_check1;
ALTER TABLE screening_industries ADD CONSTRAINT screening_industries_codes
    CHECK (naics_codes_well_formed(allowed || blocked) AND cardinality(allowed) <= 100 AND cardinality(blocked) <= 100);

-- +goose Down
ALTER TABLE screening_industries DROP CONSTRAINT screening_industries_codes;
ALTER TABLE screening_industries ADD CONSTRAINT screening_industries_check1
    CHECK ((allowed || blocked) <@ ARRAY['11', '21', '22', '23', '31-33', '42', '44-45', '48-49', '51', '52',
        '53', '54', '55', '56', '61', '62', '71', '72', '81', '92']);
DROP FUNCTION naics_codes_well_formed(text[]);
