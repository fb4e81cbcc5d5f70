"""Funding: gated disbursement and O&M funds (资金拨付、运维经费)."""
