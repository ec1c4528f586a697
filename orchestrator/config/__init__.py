"""The optional `.specify/sdd.yaml`: its schema (`model`), reading it with errors that name the
key (`load`), and its documentation generated from the schema (`reference`). Imports
`errors`, `speckit` (to read the file) and `store` (to check a store URL)."""
