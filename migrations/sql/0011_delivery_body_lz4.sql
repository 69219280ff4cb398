-- A delivery body is a 5-20 kB JSON document, and PostgreSQL compresses it
-- on every insert before it goes to TOAST. The default method, pglz, was the
-- largest single cost of storing a delivery (issue 14: about 0.15 ms of
-- PostgreSQL CPU per 17.7 kB body); lz4 compresses the same body several
-- times faster, to a similar size. Rows stored before keep their pglz bodies
-- and read as before. A server built without lz4 keeps pglz: nothing else
-- depends on the method.
DO $$
BEGIN
    ALTER TABLE deliveries ALTER COLUMN body SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not available on this server: delivery bodies stay compressed with pglz';
END
$$;
