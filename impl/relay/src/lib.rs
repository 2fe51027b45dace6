//! sans-IO MS-KKDCP relay core: request checks, realm routing, upstream exchange, limits, audit
