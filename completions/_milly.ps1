
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'milly' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'milly'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'milly' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('product', 'product', [CompletionResultType]::ParameterValue, 'Create, change, archive, list and show products')
            [CompletionResult]::new('stock', 'stock', [CompletionResultType]::ParameterValue, 'Change stock and read its ledger')
            [CompletionResult]::new('discount', 'discount', [CompletionResultType]::ParameterValue, 'Set, list and clear product discounts')
            [CompletionResult]::new('coupon', 'coupon', [CompletionResultType]::ParameterValue, 'Create, list, show and deactivate customer coupons')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Load products or coupons in bulk from NDJSON or CSV (all or nothing)')
            [CompletionResult]::new('db', 'db', [CompletionResultType]::ParameterValue, 'Apply migrations and inspect the database')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the manual page (roff) of milly or of one command')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'milly;product' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a product with its opening stock')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List products, oldest first, with stock and discounted price')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one product priced for a customer at a moment')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change a product''s name, description or price (recorded in its history)')
            [CompletionResult]::new('archive', 'archive', [CompletionResultType]::ParameterValue, 'Retire a product: hidden from lists, read-only (repeating it is harmless)')
            [CompletionResult]::new('unarchive', 'unarchive', [CompletionResultType]::ParameterValue, 'Make an archived product listed and writable again')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Every change to a product, oldest first, with when and who')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'milly;product;create' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Name, 1 to 200 characters (trimmed)')
            [CompletionResult]::new('--price', '--price', [CompletionResultType]::ParameterName, 'Price with at most 2 decimals, e.g. 10000 or 17.49')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'Free text, at most 2000 characters')
            [CompletionResult]::new('--stock', '--stock', [CompletionResultType]::ParameterName, 'Opening stock, a whole number')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'milly;product;list' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Only names containing this text (case-insensitive; % and _ are literal)')
            [CompletionResult]::new('--page-size', '--page-size', [CompletionResultType]::ParameterName, 'Products per page')
            [CompletionResult]::new('--page', '--page', [CompletionResultType]::ParameterName, 'Page number, from 1')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'Price the products at this time instead of now (RFC 3339, a date, today, -7d, +30d …)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every matching product, streamed as it is read (instead of one page)')
            [CompletionResult]::new('--include-archived', '--include-archived', [CompletionResultType]::ParameterName, 'List archived products too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'milly;product;show' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Apply this customer''s best valid coupon')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'Price the product at this time instead of now (RFC 3339, a date, today, -7d, +30d …)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--explain', '--explain', [CompletionResultType]::ParameterName, 'Add the pricing steps: list price, discount, coupon, final price')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'milly;product;update' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'New name, 1 to 200 characters (trimmed)')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'New description, at most 2000 characters ("" empties it)')
            [CompletionResult]::new('--price', '--price', [CompletionResultType]::ParameterName, 'New price with at most 2 decimals; prices shown --at an earlier time keep the price in force then')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'milly;product;archive' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'milly;product;unarchive' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'milly;product;history' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'milly;product;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a product with its opening stock')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List products, oldest first, with stock and discounted price')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one product priced for a customer at a moment')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change a product''s name, description or price (recorded in its history)')
            [CompletionResult]::new('archive', 'archive', [CompletionResultType]::ParameterValue, 'Retire a product: hidden from lists, read-only (repeating it is harmless)')
            [CompletionResult]::new('unarchive', 'unarchive', [CompletionResultType]::ParameterValue, 'Make an archived product listed and writable again')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Every change to a product, oldest first, with when and who')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'milly;product;help;create' {
            break
        }
        'milly;product;help;list' {
            break
        }
        'milly;product;help;show' {
            break
        }
        'milly;product;help;update' {
            break
        }
        'milly;product;help;archive' {
            break
        }
        'milly;product;help;unarchive' {
            break
        }
        'milly;product;help;history' {
            break
        }
        'milly;product;help;help' {
            break
        }
        'milly;stock' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('adjust', 'adjust', [CompletionResultType]::ParameterValue, 'Add to or take from a product''s stock (retried on concurrent writes)')
            [CompletionResult]::new('revert', 'revert', [CompletionResultType]::ParameterValue, 'Undo one ledger row: append the opposite change, linked to it (`reverts`). Exit 4 if it would take stock below zero (insufficient_stock) or the row is already reverted (already_reverted)')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Print a product''s stock ledger, or every product''s movements, oldest first (streamed)')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check every ledger (or one): versions 1..n without gaps, each total the previous total plus the change, never below zero, ending at the version its product records as the latest. Exit 0 with a summary, or exit 4 (ledger_inconsistent) with one row per problem')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'milly;stock;adjust' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--change', '--change', [CompletionResultType]::ParameterName, 'Change, e.g. +50 or -20 (both `--change -20` and `--change=-20` work)')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why, recorded on the ledger row (at most 200 characters)')
            [CompletionResult]::new('--expect-version', '--expect-version', [CompletionResultType]::ParameterName, 'Apply only if the product''s latest ledger version is still V; otherwise exit 4 (version_mismatch) naming the current version, without retrying')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'milly;stock;revert' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why, recorded on the new ledger row (at most 200 characters)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'milly;stock;history' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only movements at or after this time (RFC 3339, a date, today, -7d, +30d …)')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only movements before this time (RFC 3339, a date, today, -7d …); with --since, the half-open span [since, until)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'At most this many movements (the oldest first)')
            [CompletionResult]::new('--tail', '--tail', [CompletionResultType]::ParameterName, 'Only the newest N movements, still printed oldest first')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'milly;stock;verify' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'milly;stock;help' {
            [CompletionResult]::new('adjust', 'adjust', [CompletionResultType]::ParameterValue, 'Add to or take from a product''s stock (retried on concurrent writes)')
            [CompletionResult]::new('revert', 'revert', [CompletionResultType]::ParameterValue, 'Undo one ledger row: append the opposite change, linked to it (`reverts`). Exit 4 if it would take stock below zero (insufficient_stock) or the row is already reverted (already_reverted)')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Print a product''s stock ledger, or every product''s movements, oldest first (streamed)')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check every ledger (or one): versions 1..n without gaps, each total the previous total plus the change, never below zero, ending at the version its product records as the latest. Exit 0 with a summary, or exit 4 (ledger_inconsistent) with one row per problem')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'milly;stock;help;adjust' {
            break
        }
        'milly;stock;help;revert' {
            break
        }
        'milly;stock;help;history' {
            break
        }
        'milly;stock;help;verify' {
            break
        }
        'milly;stock;help;help' {
            break
        }
        'milly;discount' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Give a product a discount over a window, replacing those it overlaps from its start')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List discounts, oldest first, whatever their status')
            [CompletionResult]::new('clear', 'clear', [CompletionResultType]::ParameterValue, 'Switch off a product''s running and scheduled discounts (none is not an error)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'milly;discount;set' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--percent', '--percent', [CompletionResultType]::ParameterName, 'Percentage off, more than 0 and at most 100, e.g. 20 or 12.5')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Start of the discount (RFC 3339, a date, today, -7d, +30d …) [default: now]')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'End of the discount, exclusive (RFC 3339, a date, today, -7d, +30d …) [default: 30 days after --from]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'milly;discount;list' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--page-size', '--page-size', [CompletionResultType]::ParameterName, 'Discounts per page')
            [CompletionResult]::new('--page', '--page', [CompletionResultType]::ParameterName, 'Page number, from 1')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--active', '--active', [CompletionResultType]::ParameterName, 'Only discounts running now (status running)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'milly;discount;clear' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'milly;discount;help' {
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Give a product a discount over a window, replacing those it overlaps from its start')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List discounts, oldest first, whatever their status')
            [CompletionResult]::new('clear', 'clear', [CompletionResultType]::ParameterValue, 'Switch off a product''s running and scheduled discounts (none is not an error)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'milly;discount;help;set' {
            break
        }
        'milly;discount;help;list' {
            break
        }
        'milly;discount;help;clear' {
            break
        }
        'milly;discount;help;help' {
            break
        }
        'milly;coupon' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a coupon for one customer')
            [CompletionResult]::new('deactivate', 'deactivate', [CompletionResultType]::ParameterValue, 'Stop a coupon from applying (repeating it is harmless)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List coupons, oldest first')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one coupon')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'milly;coupon;create' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The customer''s external id (1 to 64 characters, no blanks)')
            [CompletionResult]::new('--percent', '--percent', [CompletionResultType]::ParameterName, 'Percentage off, more than 0 and at most 100, e.g. 20 or 12.5')
            [CompletionResult]::new('--valid-to', '--valid-to', [CompletionResultType]::ParameterName, 'End of validity, exclusive (RFC 3339, a date, today, -7d, +30d …)')
            [CompletionResult]::new('--valid-from', '--valid-from', [CompletionResultType]::ParameterName, 'Start of validity (RFC 3339, a date, today, -7d, +30d …) [default: now]')
            [CompletionResult]::new('--code', '--code', [CompletionResultType]::ParameterName, 'Code, 3 to 32 letters, digits, - or _, unique regardless of case [default: random]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'milly;coupon;deactivate' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'milly;coupon;list' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Only this customer''s coupons')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment status and --active are judged at (RFC 3339, a date, today, -7d, +30d …) [default: now]')
            [CompletionResult]::new('--page-size', '--page-size', [CompletionResultType]::ParameterName, 'Coupons per page')
            [CompletionResult]::new('--page', '--page', [CompletionResultType]::ParameterName, 'Page number, from 1')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--active', '--active', [CompletionResultType]::ParameterName, 'Only coupons valid now, or at --at (status valid)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'milly;coupon;show' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'milly;coupon;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a coupon for one customer')
            [CompletionResult]::new('deactivate', 'deactivate', [CompletionResultType]::ParameterValue, 'Stop a coupon from applying (repeating it is harmless)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List coupons, oldest first')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one coupon')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'milly;coupon;help;create' {
            break
        }
        'milly;coupon;help;deactivate' {
            break
        }
        'milly;coupon;help;list' {
            break
        }
        'milly;coupon;help;show' {
            break
        }
        'milly;coupon;help;help' {
            break
        }
        'milly;import' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('products', 'products', [CompletionResultType]::ParameterValue, 'Import products in one transaction. Fields: name, price, description, stock, stock_changes (further ledger changes: a JSON array, or "+5;-2" in CSV), discount_percent, discount_from, discount_until')
            [CompletionResult]::new('coupons', 'coupons', [CompletionResultType]::ParameterValue, 'Import coupons in one transaction. Fields: user, percent, valid_to, valid_from, code')
            [CompletionResult]::new('stock', 'stock', [CompletionResultType]::ParameterValue, 'Apply stock changes in one transaction, in file order, each checked against its product''s running total. Fields: product_id, change (e.g. +50 or -20), reason')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'milly;import;products' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Input format [default: told from the first line: NDJSON if it starts with ''{'', CSV otherwise]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--allow-empty', '--allow-empty', [CompletionResultType]::ParameterName, 'Accept an input with no rows (refused by default: an empty file is most often a failed download)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'milly;import;coupons' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Input format [default: told from the first line: NDJSON if it starts with ''{'', CSV otherwise]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--allow-empty', '--allow-empty', [CompletionResultType]::ParameterName, 'Accept an input with no rows (refused by default: an empty file is most often a failed download)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'milly;import;stock' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Input format [default: told from the first line: NDJSON if it starts with ''{'', CSV otherwise]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--allow-empty', '--allow-empty', [CompletionResultType]::ParameterName, 'Accept an input with no rows (refused by default: an empty file is most often a failed download)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'milly;import;help' {
            [CompletionResult]::new('products', 'products', [CompletionResultType]::ParameterValue, 'Import products in one transaction. Fields: name, price, description, stock, stock_changes (further ledger changes: a JSON array, or "+5;-2" in CSV), discount_percent, discount_from, discount_until')
            [CompletionResult]::new('coupons', 'coupons', [CompletionResultType]::ParameterValue, 'Import coupons in one transaction. Fields: user, percent, valid_to, valid_from, code')
            [CompletionResult]::new('stock', 'stock', [CompletionResultType]::ParameterValue, 'Apply stock changes in one transaction, in file order, each checked against its product''s running total. Fields: product_id, change (e.g. +50 or -20), reason')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'milly;import;help;products' {
            break
        }
        'milly;import;help;coupons' {
            break
        }
        'milly;import;help;stock' {
            break
        }
        'milly;import;help;help' {
            break
        }
        'milly;db' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Apply pending migrations (the only way to upgrade a MySQL schema; other commands set up an empty database, and upgrade an SQLite file, on their own)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the backend, where it points, the schema version, pending migrations and row counts')
            [CompletionResult]::new('prune-keys', 'prune-keys', [CompletionResultType]::ParameterValue, 'Forget idempotency keys recorded more than DAYS days ago (their writes stay)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'milly;db;migrate' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'milly;db;status' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'milly;db;prune-keys' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'Keep the keys of the last DAYS days')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'milly;db;help' {
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Apply pending migrations (the only way to upgrade a MySQL schema; other commands set up an empty database, and upgrade an SQLite file, on their own)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the backend, where it points, the schema version, pending migrations and row counts')
            [CompletionResult]::new('prune-keys', 'prune-keys', [CompletionResultType]::ParameterValue, 'Forget idempotency keys recorded more than DAYS days ago (their writes stay)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'milly;db;help;migrate' {
            break
        }
        'milly;db;help;status' {
            break
        }
        'milly;db;help;prune-keys' {
            break
        }
        'milly;db;help;help' {
            break
        }
        'milly;completions' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'milly;man' {
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--retry-attempts', '--retry-attempts', [CompletionResultType]::ParameterName, 'Attempts for a write that conflicts with other writers, first included')
            [CompletionResult]::new('--retry-base-delay-ms', '--retry-base-delay-ms', [CompletionResultType]::ParameterName, 'Cap of the first random wait after a conflict; it doubles per attempt')
            [CompletionResult]::new('--retry-max-delay-ms', '--retry-max-delay-ms', [CompletionResultType]::ParameterName, 'Longest single wait between attempts')
            [CompletionResult]::new('--lock-timeout-ms', '--lock-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time one command waits for other processes'' locks, retries included')
            [CompletionResult]::new('--connect-timeout-ms', '--connect-timeout-ms', [CompletionResultType]::ParameterName, 'Longest time connecting to a MySQL server may take, TLS and login included')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --output json (together with another --output, a usage error)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report retries and other details on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'milly;help' {
            [CompletionResult]::new('product', 'product', [CompletionResultType]::ParameterValue, 'Create, change, archive, list and show products')
            [CompletionResult]::new('stock', 'stock', [CompletionResultType]::ParameterValue, 'Change stock and read its ledger')
            [CompletionResult]::new('discount', 'discount', [CompletionResultType]::ParameterValue, 'Set, list and clear product discounts')
            [CompletionResult]::new('coupon', 'coupon', [CompletionResultType]::ParameterValue, 'Create, list, show and deactivate customer coupons')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Load products or coupons in bulk from NDJSON or CSV (all or nothing)')
            [CompletionResult]::new('db', 'db', [CompletionResultType]::ParameterValue, 'Apply migrations and inspect the database')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the manual page (roff) of milly or of one command')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'milly;help;product' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a product with its opening stock')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List products, oldest first, with stock and discounted price')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one product priced for a customer at a moment')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change a product''s name, description or price (recorded in its history)')
            [CompletionResult]::new('archive', 'archive', [CompletionResultType]::ParameterValue, 'Retire a product: hidden from lists, read-only (repeating it is harmless)')
            [CompletionResult]::new('unarchive', 'unarchive', [CompletionResultType]::ParameterValue, 'Make an archived product listed and writable again')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Every change to a product, oldest first, with when and who')
            break
        }
        'milly;help;product;create' {
            break
        }
        'milly;help;product;list' {
            break
        }
        'milly;help;product;show' {
            break
        }
        'milly;help;product;update' {
            break
        }
        'milly;help;product;archive' {
            break
        }
        'milly;help;product;unarchive' {
            break
        }
        'milly;help;product;history' {
            break
        }
        'milly;help;stock' {
            [CompletionResult]::new('adjust', 'adjust', [CompletionResultType]::ParameterValue, 'Add to or take from a product''s stock (retried on concurrent writes)')
            [CompletionResult]::new('revert', 'revert', [CompletionResultType]::ParameterValue, 'Undo one ledger row: append the opposite change, linked to it (`reverts`). Exit 4 if it would take stock below zero (insufficient_stock) or the row is already reverted (already_reverted)')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Print a product''s stock ledger, or every product''s movements, oldest first (streamed)')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check every ledger (or one): versions 1..n without gaps, each total the previous total plus the change, never below zero, ending at the version its product records as the latest. Exit 0 with a summary, or exit 4 (ledger_inconsistent) with one row per problem')
            break
        }
        'milly;help;stock;adjust' {
            break
        }
        'milly;help;stock;revert' {
            break
        }
        'milly;help;stock;history' {
            break
        }
        'milly;help;stock;verify' {
            break
        }
        'milly;help;discount' {
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Give a product a discount over a window, replacing those it overlaps from its start')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List discounts, oldest first, whatever their status')
            [CompletionResult]::new('clear', 'clear', [CompletionResultType]::ParameterValue, 'Switch off a product''s running and scheduled discounts (none is not an error)')
            break
        }
        'milly;help;discount;set' {
            break
        }
        'milly;help;discount;list' {
            break
        }
        'milly;help;discount;clear' {
            break
        }
        'milly;help;coupon' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a coupon for one customer')
            [CompletionResult]::new('deactivate', 'deactivate', [CompletionResultType]::ParameterValue, 'Stop a coupon from applying (repeating it is harmless)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List coupons, oldest first')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one coupon')
            break
        }
        'milly;help;coupon;create' {
            break
        }
        'milly;help;coupon;deactivate' {
            break
        }
        'milly;help;coupon;list' {
            break
        }
        'milly;help;coupon;show' {
            break
        }
        'milly;help;import' {
            [CompletionResult]::new('products', 'products', [CompletionResultType]::ParameterValue, 'Import products in one transaction. Fields: name, price, description, stock, stock_changes (further ledger changes: a JSON array, or "+5;-2" in CSV), discount_percent, discount_from, discount_until')
            [CompletionResult]::new('coupons', 'coupons', [CompletionResultType]::ParameterValue, 'Import coupons in one transaction. Fields: user, percent, valid_to, valid_from, code')
            [CompletionResult]::new('stock', 'stock', [CompletionResultType]::ParameterValue, 'Apply stock changes in one transaction, in file order, each checked against its product''s running total. Fields: product_id, change (e.g. +50 or -20), reason')
            break
        }
        'milly;help;import;products' {
            break
        }
        'milly;help;import;coupons' {
            break
        }
        'milly;help;import;stock' {
            break
        }
        'milly;help;db' {
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Apply pending migrations (the only way to upgrade a MySQL schema; other commands set up an empty database, and upgrade an SQLite file, on their own)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the backend, where it points, the schema version, pending migrations and row counts')
            [CompletionResult]::new('prune-keys', 'prune-keys', [CompletionResultType]::ParameterValue, 'Forget idempotency keys recorded more than DAYS days ago (their writes stay)')
            break
        }
        'milly;help;db;migrate' {
            break
        }
        'milly;help;db;status' {
            break
        }
        'milly;help;db;prune-keys' {
            break
        }
        'milly;help;completions' {
            break
        }
        'milly;help;man' {
            break
        }
        'milly;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
