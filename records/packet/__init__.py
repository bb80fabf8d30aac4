"""The packet a requester receives, as pure functions of prepared data (STYLE habit 13).

Nothing here imports Django models: `data` holds the frozen values a service prepares;
`index_pdf`, `letter_pdf`, `manifests` and `bag` turn them into bytes.
"""
