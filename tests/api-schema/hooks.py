"""Schemathesis hooks (loaded through SCHEMATHESIS_HOOKS by run.py): object bodies are
DAG-CBOR, which the node takes only under its own content types (`application/vnd.ipld.dag-cbor`,
`application/cbor`); they are sent as raw bytes, as Schemathesis sends octet streams."""

import schemathesis

schemathesis.serializer.alias(
    ["application/vnd.ipld.dag-cbor", "application/cbor"], "application/octet-stream"
)
