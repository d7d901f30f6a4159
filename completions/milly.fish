# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_milly_global_optspecs
    string join \n database-url= o/output= json retry-attempts= retry-base-delay-ms= retry-max-delay-ms= lock-timeout-ms= connect-timeout-ms= dry-run actor= idempotency-key= v/verbose h/help V/version
end

function __fish_milly_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_milly_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_milly_using_subcommand
    set -l cmd (__fish_milly_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c milly -n "__fish_milly_needs_command" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_needs_command" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_needs_command" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_needs_command" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_needs_command" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_needs_command" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_needs_command" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_needs_command" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_needs_command" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_needs_command" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_needs_command" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_needs_command" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_needs_command" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_needs_command" -f -a "product" -d 'Create, change, archive, list and show products'
complete -c milly -n "__fish_milly_needs_command" -f -a "stock" -d 'Change stock and read its ledger'
complete -c milly -n "__fish_milly_needs_command" -f -a "discount" -d 'Set, list and clear product discounts'
complete -c milly -n "__fish_milly_needs_command" -f -a "coupon" -d 'Create, list, show and deactivate customer coupons'
complete -c milly -n "__fish_milly_needs_command" -f -a "import" -d 'Load products or coupons in bulk from NDJSON or CSV (all or nothing)'
complete -c milly -n "__fish_milly_needs_command" -f -a "db" -d 'Apply migrations and inspect the database'
complete -c milly -n "__fish_milly_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c milly -n "__fish_milly_needs_command" -f -a "man" -d 'Print the manual page (roff) of milly or of one command'
complete -c milly -n "__fish_milly_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive history help" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive history help" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive history help" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive history help" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive history help" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive history help" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive history help" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive history help" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive history help" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive history help" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive history help" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive history help" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive history help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive history help" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive history help" -f -a "create" -d 'Create a product with its opening stock'
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive history help" -f -a "list" -d 'List products, oldest first, with stock and discounted price'
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive history help" -f -a "show" -d 'Show one product priced for a customer at a moment'
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive history help" -f -a "update" -d 'Change a product\'s name, description or price (recorded in its history)'
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive history help" -f -a "archive" -d 'Retire a product: hidden from lists, read-only (repeating it is harmless)'
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive history help" -f -a "unarchive" -d 'Make an archived product listed and writable again'
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive history help" -f -a "history" -d 'Every change to a product, oldest first, with when and who'
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive history help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -l name -d 'Name, 1 to 200 characters (trimmed)' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -l price -d 'Price with at most 2 decimals, e.g. 10000 or 17.49' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -l description -d 'Free text, at most 2000 characters' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -l stock -d 'Opening stock, a whole number' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -l name -d 'Only names containing this text (case-insensitive; % and _ are literal)' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -l page-size -d 'Products per page' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -l page -d 'Page number, from 1' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -l at -d 'Price the products at this time instead of now (RFC 3339, a date, today, -7d, +30d …)' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -l all -d 'Every matching product, streamed as it is read (instead of one page)'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -l include-archived -d 'List archived products too'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -l user -d 'Apply this customer\'s best valid coupon' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -l at -d 'Price the product at this time instead of now (RFC 3339, a date, today, -7d, +30d …)' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -l explain -d 'Add the pricing steps: list price, discount, coupon, final price'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from update" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from update" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from update" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from update" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from update" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from update" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from update" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from update" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from update" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from update" -l name -d 'New name, 1 to 200 characters (trimmed)' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from update" -l description -d 'New description, at most 2000 characters ("" empties it)' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from update" -l price -d 'New price with at most 2 decimals; prices shown --at an earlier time keep the price in force then' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from update" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from update" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from update" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from update" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from update" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from archive" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from archive" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from archive" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from archive" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from archive" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from archive" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from archive" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from archive" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from archive" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from archive" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from archive" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from archive" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from archive" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from archive" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from unarchive" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from unarchive" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from unarchive" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from unarchive" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from unarchive" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from unarchive" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from unarchive" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from unarchive" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from unarchive" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from unarchive" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from unarchive" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from unarchive" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from unarchive" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from unarchive" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from history" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from history" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from history" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from history" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from history" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from history" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from history" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from history" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from history" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from history" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from history" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from history" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from history" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from history" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a product with its opening stock'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from help" -f -a "list" -d 'List products, oldest first, with stock and discounted price'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one product priced for a customer at a moment'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from help" -f -a "update" -d 'Change a product\'s name, description or price (recorded in its history)'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from help" -f -a "archive" -d 'Retire a product: hidden from lists, read-only (repeating it is harmless)'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from help" -f -a "unarchive" -d 'Make an archived product listed and writable again'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from help" -f -a "history" -d 'Every change to a product, oldest first, with when and who'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust revert history verify help" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust revert history verify help" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust revert history verify help" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust revert history verify help" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust revert history verify help" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust revert history verify help" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust revert history verify help" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust revert history verify help" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust revert history verify help" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust revert history verify help" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust revert history verify help" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust revert history verify help" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust revert history verify help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust revert history verify help" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust revert history verify help" -f -a "adjust" -d 'Add to or take from a product\'s stock (retried on concurrent writes)'
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust revert history verify help" -f -a "revert" -d 'Undo one ledger row: append the opposite change, linked to it (`reverts`). Exit 4 if it would take stock below zero (insufficient_stock) or the row is already reverted (already_reverted)'
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust revert history verify help" -f -a "history" -d 'Print a product\'s stock ledger, or every product\'s movements, oldest first (streamed)'
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust revert history verify help" -f -a "verify" -d 'Check every ledger (or one): versions 1..n without gaps, each total the previous total plus the change, never below zero, ending at the version its product records as the latest. Exit 0 with a summary, or exit 4 (ledger_inconsistent) with one row per problem'
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust revert history verify help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -l change -d 'Change, e.g. +50 or -20 (both `--change -20` and `--change=-20` work)' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -l reason -d 'Why, recorded on the ledger row (at most 200 characters)' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -l expect-version -d 'Apply only if the product\'s latest ledger version is still V; otherwise exit 4 (version_mismatch) naming the current version, without retrying' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from revert" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from revert" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from revert" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from revert" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from revert" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from revert" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from revert" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from revert" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from revert" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from revert" -l reason -d 'Why, recorded on the new ledger row (at most 200 characters)' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from revert" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from revert" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from revert" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from revert" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from revert" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from history" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from history" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from history" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from history" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from history" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from history" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from history" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from history" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from history" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from history" -l since -d 'Only movements at or after this time (RFC 3339, a date, today, -7d, +30d …)' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from history" -l until -d 'Only movements before this time (RFC 3339, a date, today, -7d …); with --since, the half-open span [since, until)' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from history" -l limit -d 'At most this many movements (the oldest first)' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from history" -l tail -d 'Only the newest N movements, still printed oldest first' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from history" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from history" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from history" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from history" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from history" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from verify" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from verify" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from verify" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from verify" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from verify" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from verify" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from verify" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from verify" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from verify" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from verify" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from verify" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from verify" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from verify" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from help" -f -a "adjust" -d 'Add to or take from a product\'s stock (retried on concurrent writes)'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from help" -f -a "revert" -d 'Undo one ledger row: append the opposite change, linked to it (`reverts`). Exit 4 if it would take stock below zero (insufficient_stock) or the row is already reverted (already_reverted)'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from help" -f -a "history" -d 'Print a product\'s stock ledger, or every product\'s movements, oldest first (streamed)'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Check every ledger (or one): versions 1..n without gaps, each total the previous total plus the change, never below zero, ending at the version its product records as the latest. Exit 0 with a summary, or exit 4 (ledger_inconsistent) with one row per problem'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set list clear help" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set list clear help" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set list clear help" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set list clear help" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set list clear help" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set list clear help" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set list clear help" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set list clear help" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set list clear help" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set list clear help" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set list clear help" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set list clear help" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set list clear help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set list clear help" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set list clear help" -f -a "set" -d 'Give a product a discount over a window, replacing those it overlaps from its start'
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set list clear help" -f -a "list" -d 'List discounts, oldest first, whatever their status'
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set list clear help" -f -a "clear" -d 'Switch off a product\'s running and scheduled discounts (none is not an error)'
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set list clear help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -l percent -d 'Percentage off, more than 0 and at most 100, e.g. 20 or 12.5' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -l from -d 'Start of the discount (RFC 3339, a date, today, -7d, +30d …) [default: now]' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -l until -d 'End of the discount, exclusive (RFC 3339, a date, today, -7d, +30d …) [default: 30 days after --from]' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from list" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from list" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from list" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from list" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from list" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from list" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from list" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from list" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from list" -l page-size -d 'Discounts per page' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from list" -l page -d 'Page number, from 1' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from list" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from list" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from list" -l active -d 'Only discounts running now (status running)'
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from clear" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from clear" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from clear" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from clear" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from clear" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from clear" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from clear" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from clear" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from clear" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from clear" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from clear" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from clear" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from clear" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from clear" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from help" -f -a "set" -d 'Give a product a discount over a window, replacing those it overlaps from its start'
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from help" -f -a "list" -d 'List discounts, oldest first, whatever their status'
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from help" -f -a "clear" -d 'Switch off a product\'s running and scheduled discounts (none is not an error)'
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate list show help" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate list show help" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate list show help" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate list show help" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate list show help" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate list show help" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate list show help" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate list show help" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate list show help" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate list show help" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate list show help" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate list show help" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate list show help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate list show help" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate list show help" -f -a "create" -d 'Create a coupon for one customer'
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate list show help" -f -a "deactivate" -d 'Stop a coupon from applying (repeating it is harmless)'
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate list show help" -f -a "list" -d 'List coupons, oldest first'
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate list show help" -f -a "show" -d 'Show one coupon'
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate list show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -l user -d 'The customer\'s external id (1 to 64 characters, no blanks)' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -l percent -d 'Percentage off, more than 0 and at most 100, e.g. 20 or 12.5' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -l valid-to -d 'End of validity, exclusive (RFC 3339, a date, today, -7d, +30d …)' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -l valid-from -d 'Start of validity (RFC 3339, a date, today, -7d, +30d …) [default: now]' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -l code -d 'Code, 3 to 32 letters, digits, - or _, unique regardless of case [default: random]' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from deactivate" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from deactivate" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from deactivate" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from deactivate" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from deactivate" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from deactivate" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from deactivate" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from deactivate" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from deactivate" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from deactivate" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from deactivate" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from deactivate" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from deactivate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from deactivate" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from list" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from list" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from list" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from list" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from list" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from list" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from list" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from list" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from list" -l user -d 'Only this customer\'s coupons' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from list" -l at -d 'The moment status and --active are judged at (RFC 3339, a date, today, -7d, +30d …) [default: now]' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from list" -l page-size -d 'Coupons per page' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from list" -l page -d 'Page number, from 1' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from list" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from list" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from list" -l active -d 'Only coupons valid now, or at --at (status valid)'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from show" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from show" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from show" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from show" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from show" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from show" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from show" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from show" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from show" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from show" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a coupon for one customer'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from help" -f -a "deactivate" -d 'Stop a coupon from applying (repeating it is harmless)'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from help" -f -a "list" -d 'List coupons, oldest first'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one coupon'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons stock help" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons stock help" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons stock help" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons stock help" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons stock help" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons stock help" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons stock help" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons stock help" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons stock help" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons stock help" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons stock help" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons stock help" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons stock help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons stock help" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons stock help" -f -a "products" -d 'Import products in one transaction. Fields: name, price, description, stock, stock_changes (further ledger changes: a JSON array, or "+5;-2" in CSV), discount_percent, discount_from, discount_until'
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons stock help" -f -a "coupons" -d 'Import coupons in one transaction. Fields: user, percent, valid_to, valid_from, code'
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons stock help" -f -a "stock" -d 'Apply stock changes in one transaction, in file order, each checked against its product\'s running total. Fields: product_id, change (e.g. +50 or -20), reason'
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons stock help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from products" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from products" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from products" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from products" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from products" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from products" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from products" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from products" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from products" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from products" -l format -d 'Input format [default: told from the first line: NDJSON if it starts with \'{\', CSV otherwise]' -r -f -a "ndjson\t'One JSON object per line'
csv\t'A header line naming the fields, then one row per line'"
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from products" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from products" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from products" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from products" -l allow-empty -d 'Accept an input with no rows (refused by default: an empty file is most often a failed download)'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from products" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from products" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from coupons" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from coupons" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from coupons" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from coupons" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from coupons" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from coupons" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from coupons" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from coupons" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from coupons" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from coupons" -l format -d 'Input format [default: told from the first line: NDJSON if it starts with \'{\', CSV otherwise]' -r -f -a "ndjson\t'One JSON object per line'
csv\t'A header line naming the fields, then one row per line'"
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from coupons" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from coupons" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from coupons" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from coupons" -l allow-empty -d 'Accept an input with no rows (refused by default: an empty file is most often a failed download)'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from coupons" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from coupons" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from stock" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from stock" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from stock" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from stock" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from stock" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from stock" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from stock" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from stock" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from stock" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from stock" -l format -d 'Input format [default: told from the first line: NDJSON if it starts with \'{\', CSV otherwise]' -r -f -a "ndjson\t'One JSON object per line'
csv\t'A header line naming the fields, then one row per line'"
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from stock" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from stock" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from stock" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from stock" -l allow-empty -d 'Accept an input with no rows (refused by default: an empty file is most often a failed download)'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from stock" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from stock" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from help" -f -a "products" -d 'Import products in one transaction. Fields: name, price, description, stock, stock_changes (further ledger changes: a JSON array, or "+5;-2" in CSV), discount_percent, discount_from, discount_until'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from help" -f -a "coupons" -d 'Import coupons in one transaction. Fields: user, percent, valid_to, valid_from, code'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from help" -f -a "stock" -d 'Apply stock changes in one transaction, in file order, each checked against its product\'s running total. Fields: product_id, change (e.g. +50 or -20), reason'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status prune-keys help" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status prune-keys help" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status prune-keys help" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status prune-keys help" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status prune-keys help" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status prune-keys help" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status prune-keys help" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status prune-keys help" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status prune-keys help" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status prune-keys help" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status prune-keys help" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status prune-keys help" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status prune-keys help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status prune-keys help" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status prune-keys help" -f -a "migrate" -d 'Apply pending migrations (the only way to upgrade a MySQL schema; other commands set up an empty database, and upgrade an SQLite file, on their own)'
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status prune-keys help" -f -a "status" -d 'Show the backend, where it points, the schema version, pending migrations and row counts'
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status prune-keys help" -f -a "prune-keys" -d 'Forget idempotency keys recorded more than DAYS days ago (their writes stay)'
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status prune-keys help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from migrate" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from migrate" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from migrate" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from migrate" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from migrate" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from migrate" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from migrate" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from migrate" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from migrate" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from migrate" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from migrate" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from migrate" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from migrate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from migrate" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from status" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from status" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from status" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from status" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from status" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from status" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from status" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from status" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from status" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from status" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from status" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from status" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from prune-keys" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from prune-keys" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from prune-keys" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from prune-keys" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from prune-keys" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from prune-keys" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from prune-keys" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from prune-keys" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from prune-keys" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from prune-keys" -l older-than -d 'Keep the keys of the last DAYS days' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from prune-keys" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from prune-keys" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from prune-keys" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from prune-keys" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from prune-keys" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "migrate" -d 'Apply pending migrations (the only way to upgrade a MySQL schema; other commands set up an empty database, and upgrade an SQLite file, on their own)'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "status" -d 'Show the backend, where it points, the schema version, pending migrations and row counts'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "prune-keys" -d 'Forget idempotency keys recorded more than DAYS days ago (their writes stay)'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c milly -n "__fish_milly_using_subcommand completions" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand completions" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand completions" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand completions" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand completions" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand completions" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand completions" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand completions" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand completions" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand completions" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand completions" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand completions" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand completions" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand man" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand man" -s o -l output -d 'Output format' -r -f -a "table\t'The columns an operator scans, fitted to the terminal (borders only on a terminal)'
wide\t'Every column, in a table'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand man" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand man" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand man" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand man" -l lock-timeout-ms -d 'Longest time one command waits for other processes\' locks, retries included' -r
complete -c milly -n "__fish_milly_using_subcommand man" -l connect-timeout-ms -d 'Longest time connecting to a MySQL server may take, TLS and login included' -r
complete -c milly -n "__fish_milly_using_subcommand man" -l actor -d 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]' -r
complete -c milly -n "__fish_milly_using_subcommand man" -l idempotency-key -d 'Run a write at most once: a rerun with the same key and the same request prints the first run\'s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)' -r
complete -c milly -n "__fish_milly_using_subcommand man" -l json -d 'Same as --output json (together with another --output, a usage error)'
complete -c milly -n "__fish_milly_using_subcommand man" -l dry-run -d 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
complete -c milly -n "__fish_milly_using_subcommand man" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand man" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand help; and not __fish_seen_subcommand_from product stock discount coupon import db completions man help" -f -a "product" -d 'Create, change, archive, list and show products'
complete -c milly -n "__fish_milly_using_subcommand help; and not __fish_seen_subcommand_from product stock discount coupon import db completions man help" -f -a "stock" -d 'Change stock and read its ledger'
complete -c milly -n "__fish_milly_using_subcommand help; and not __fish_seen_subcommand_from product stock discount coupon import db completions man help" -f -a "discount" -d 'Set, list and clear product discounts'
complete -c milly -n "__fish_milly_using_subcommand help; and not __fish_seen_subcommand_from product stock discount coupon import db completions man help" -f -a "coupon" -d 'Create, list, show and deactivate customer coupons'
complete -c milly -n "__fish_milly_using_subcommand help; and not __fish_seen_subcommand_from product stock discount coupon import db completions man help" -f -a "import" -d 'Load products or coupons in bulk from NDJSON or CSV (all or nothing)'
complete -c milly -n "__fish_milly_using_subcommand help; and not __fish_seen_subcommand_from product stock discount coupon import db completions man help" -f -a "db" -d 'Apply migrations and inspect the database'
complete -c milly -n "__fish_milly_using_subcommand help; and not __fish_seen_subcommand_from product stock discount coupon import db completions man help" -f -a "completions" -d 'Print a shell completion script'
complete -c milly -n "__fish_milly_using_subcommand help; and not __fish_seen_subcommand_from product stock discount coupon import db completions man help" -f -a "man" -d 'Print the manual page (roff) of milly or of one command'
complete -c milly -n "__fish_milly_using_subcommand help; and not __fish_seen_subcommand_from product stock discount coupon import db completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from product" -f -a "create" -d 'Create a product with its opening stock'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from product" -f -a "list" -d 'List products, oldest first, with stock and discounted price'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from product" -f -a "show" -d 'Show one product priced for a customer at a moment'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from product" -f -a "update" -d 'Change a product\'s name, description or price (recorded in its history)'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from product" -f -a "archive" -d 'Retire a product: hidden from lists, read-only (repeating it is harmless)'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from product" -f -a "unarchive" -d 'Make an archived product listed and writable again'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from product" -f -a "history" -d 'Every change to a product, oldest first, with when and who'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from stock" -f -a "adjust" -d 'Add to or take from a product\'s stock (retried on concurrent writes)'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from stock" -f -a "revert" -d 'Undo one ledger row: append the opposite change, linked to it (`reverts`). Exit 4 if it would take stock below zero (insufficient_stock) or the row is already reverted (already_reverted)'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from stock" -f -a "history" -d 'Print a product\'s stock ledger, or every product\'s movements, oldest first (streamed)'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from stock" -f -a "verify" -d 'Check every ledger (or one): versions 1..n without gaps, each total the previous total plus the change, never below zero, ending at the version its product records as the latest. Exit 0 with a summary, or exit 4 (ledger_inconsistent) with one row per problem'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from discount" -f -a "set" -d 'Give a product a discount over a window, replacing those it overlaps from its start'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from discount" -f -a "list" -d 'List discounts, oldest first, whatever their status'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from discount" -f -a "clear" -d 'Switch off a product\'s running and scheduled discounts (none is not an error)'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from coupon" -f -a "create" -d 'Create a coupon for one customer'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from coupon" -f -a "deactivate" -d 'Stop a coupon from applying (repeating it is harmless)'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from coupon" -f -a "list" -d 'List coupons, oldest first'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from coupon" -f -a "show" -d 'Show one coupon'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from import" -f -a "products" -d 'Import products in one transaction. Fields: name, price, description, stock, stock_changes (further ledger changes: a JSON array, or "+5;-2" in CSV), discount_percent, discount_from, discount_until'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from import" -f -a "coupons" -d 'Import coupons in one transaction. Fields: user, percent, valid_to, valid_from, code'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from import" -f -a "stock" -d 'Apply stock changes in one transaction, in file order, each checked against its product\'s running total. Fields: product_id, change (e.g. +50 or -20), reason'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "migrate" -d 'Apply pending migrations (the only way to upgrade a MySQL schema; other commands set up an empty database, and upgrade an SQLite file, on their own)'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "status" -d 'Show the backend, where it points, the schema version, pending migrations and row counts'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "prune-keys" -d 'Forget idempotency keys recorded more than DAYS days ago (their writes stay)'
