// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

interface IERC20 {
    function transfer(address to, uint256 amount) external;
    function transferFrom(address from, address to, uint256 amount) external;
    function balanceOf(address who) external view returns (uint256);
}

/// @title SpareEscrow: cumulative-voucher payment channels for Spare.
/// @notice A payer deposits an ERC-20 amount for one payee. The payer's
/// authorised signer signs EIP-712 vouchers for the cumulative amount
/// owed; the payee settles the best one at any time and is paid the
/// difference. The payer may ask to close; the payee then has at least
/// GRACE_PERIOD to settle before the payer may withdraw the rest, and the
/// grace period never starts before the channel's unlockAt: a payer who
/// opens for a job locks the deposit for the job's maximum duration, so a
/// close request mid-job cannot cut the payee's time.
/// Tokens: transfers are low-level calls that accept no return data or
/// true (tokens like USDT return nothing), and a deposit is credited with
/// what arrived (the escrow's balance before and after), not what was
/// asked for, so a fee-on-transfer token cannot make channels insolvent.
/// Rebasing tokens are not supported: each network preset names the one
/// token its providers accept.
/// Digests match package wallet: domain {name "Spare", version "1",
/// chainId, verifyingContract}, type Voucher(bytes32 channelId,uint256 cumulative).
contract SpareEscrow {
    uint256 public constant GRACE_PERIOD = 24 hours;
    /// @notice The longest a deposit may be locked ahead (a typo's bound).
    uint256 public constant MAX_LOCK = 31 days;
    bytes32 public constant VOUCHER_TYPEHASH = keccak256("Voucher(bytes32 channelId,uint256 cumulative)");
    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    // secp256k1n / 2: signatures with a larger s are malleable copies (EIP-2).
    uint256 private constant HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    struct Channel {
        address payer;
        address payee;
        address signer;
        address token;
        uint256 deposit;
        uint256 settled;
        uint64 closeRequestedAt;
        uint64 unlockAt;
        bool closed;
    }

    mapping(bytes32 => Channel) public channels;
    // Set while a call that moves tokens runs: a token calling back into
    // the escrow mid-transfer is refused (its balance delta would count twice).
    bool private transient entered;

    modifier guarded() {
        if (entered) revert Reentered();
        entered = true;
        _;
        entered = false;
    }

    event Opened(bytes32 indexed id, address indexed payer, address indexed payee, address signer, address token, uint256 deposit, uint64 unlockAt);
    event ToppedUp(bytes32 indexed id, uint256 amount, uint256 deposit, uint64 unlockAt);
    event Settled(bytes32 indexed id, uint256 cumulative, uint256 amount);
    event CloseRequested(bytes32 indexed id, uint256 graceEnds);
    event Closed(bytes32 indexed id, uint256 settled, uint256 refund);

    error UnknownChannel();
    error ChannelExists();
    error ChannelClosed();
    error NotPayee();
    error NotPayer();
    error ZeroAmount();
    error BadSignature();
    error HighS();
    error NotIncreasing();
    error AboveDeposit();
    error NoCloseRequest();
    error GracePeriod(uint256 endsAt);
    error TransferFailed();
    error LockTooLong(uint256 latest);
    error Reentered();

    function domainSeparator() public view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, keccak256("Spare"), keccak256("1"), block.chainid, address(this)));
    }

    function voucherDigest(bytes32 id, uint256 cumulative) public view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(), keccak256(abi.encode(VOUCHER_TYPEHASH, id, cumulative))));
    }

    function channelId(address payer, address payee, bytes32 salt) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), payer, payee, salt));
    }

    /// @notice Opens a channel holding what arrives of amount, locked until
    /// unlockAt (unix seconds; 0 or past: not locked).
    function open(address payee, address signer, address token, uint256 amount, bytes32 salt, uint64 unlockAt)
        external
        guarded
        returns (bytes32 id)
    {
        if (amount == 0) revert ZeroAmount();
        _checkLock(unlockAt);
        id = channelId(msg.sender, payee, salt);
        if (channels[id].payer != address(0)) revert ChannelExists();
        channels[id] = Channel(msg.sender, payee, signer, token, 0, 0, 0, unlockAt, false);
        uint256 got = _pull(token, msg.sender, amount);
        channels[id].deposit = got;
        emit Opened(id, msg.sender, payee, signer, token, got, unlockAt);
    }

    /// @notice Adds what arrives of amount to the deposit, extends the lock
    /// to unlockAt when later, and cancels a pending close request. With a
    /// zero amount it only extends the lock, which must then be later.
    function topUp(bytes32 id, uint256 amount, uint64 unlockAt) external guarded {
        Channel storage c = _live(id);
        if (msg.sender != c.payer) revert NotPayer();
        // A zero amount only extends the lock (a reused channel's next job).
        if (amount == 0 && unlockAt <= c.unlockAt) revert ZeroAmount();
        _checkLock(unlockAt);
        if (unlockAt > c.unlockAt) c.unlockAt = unlockAt;
        c.closeRequestedAt = 0;
        uint256 got = amount == 0 ? 0 : _pull(c.token, msg.sender, amount);
        c.deposit += got;
        emit ToppedUp(id, got, c.deposit, c.unlockAt);
    }

    /// @notice When the payer may withdraw: GRACE_PERIOD after the later of
    /// the close request and the lock's end; 0 while no close is requested.
    function withdrawableAt(bytes32 id) public view returns (uint256) {
        Channel storage c = channels[id];
        if (c.closeRequestedAt == 0) return 0;
        uint256 from = c.closeRequestedAt > c.unlockAt ? c.closeRequestedAt : c.unlockAt;
        return from + GRACE_PERIOD;
    }

    function settle(bytes32 id, uint256 cumulative, bytes calldata sig) external guarded {
        Channel storage c = _live(id);
        if (msg.sender != c.payee) revert NotPayee();
        _claim(id, c, cumulative, sig);
    }

    /// @notice The payee settles a final voucher (optional: empty sig) and
    /// refunds the rest of the deposit to the payer.
    function close(bytes32 id, uint256 cumulative, bytes calldata sig) external guarded {
        Channel storage c = _live(id);
        if (msg.sender != c.payee) revert NotPayee();
        if (sig.length != 0 && cumulative > c.settled) _claim(id, c, cumulative, sig);
        _finish(id, c);
    }

    function requestClose(bytes32 id) external {
        Channel storage c = _live(id);
        if (msg.sender != c.payer) revert NotPayer();
        c.closeRequestedAt = uint64(block.timestamp);
        emit CloseRequested(id, withdrawableAt(id));
    }

    function withdraw(bytes32 id) external guarded {
        Channel storage c = _live(id);
        if (msg.sender != c.payer) revert NotPayer();
        if (c.closeRequestedAt == 0) revert NoCloseRequest();
        uint256 ends = withdrawableAt(id);
        if (block.timestamp < ends) revert GracePeriod(ends);
        _finish(id, c);
    }

    function _live(bytes32 id) private view returns (Channel storage c) {
        c = channels[id];
        if (c.payer == address(0)) revert UnknownChannel();
        if (c.closed) revert ChannelClosed();
    }

    function _claim(bytes32 id, Channel storage c, uint256 cumulative, bytes calldata sig) private {
        if (cumulative <= c.settled) revert NotIncreasing();
        if (cumulative > c.deposit) revert AboveDeposit();
        if (_recover(voucherDigest(id, cumulative), sig) != c.signer) revert BadSignature();
        uint256 amount = cumulative - c.settled;
        c.settled = cumulative;
        _push(c.token, c.payee, amount);
        emit Settled(id, cumulative, amount);
    }

    function _finish(bytes32 id, Channel storage c) private {
        uint256 refund = c.deposit - c.settled;
        c.closed = true;
        if (refund > 0) _push(c.token, c.payer, refund);
        emit Closed(id, c.settled, refund);
    }

    function _recover(bytes32 digest, bytes calldata sig) private pure returns (address signer) {
        if (sig.length != 65) revert BadSignature();
        bytes32 r = bytes32(sig[0:32]);
        bytes32 s = bytes32(sig[32:64]);
        uint8 v = uint8(sig[64]);
        if (uint256(s) > HALF_N) revert HighS();
        if (v != 27 && v != 28) revert BadSignature();
        signer = ecrecover(digest, v, r, s);
        if (signer == address(0)) revert BadSignature();
    }

    function _checkLock(uint64 unlockAt) private view {
        if (unlockAt > block.timestamp + MAX_LOCK) revert LockTooLong(block.timestamp + MAX_LOCK);
    }

    /// @dev Pulls amount from `from` and returns what arrived.
    function _pull(address token, address from, uint256 amount) private returns (uint256 got) {
        uint256 before = IERC20(token).balanceOf(address(this));
        _call(token, abi.encodeCall(IERC20.transferFrom, (from, address(this), amount)));
        got = IERC20(token).balanceOf(address(this)) - before;
        if (got == 0) revert ZeroAmount();
    }

    function _push(address token, address to, uint256 amount) private {
        _call(token, abi.encodeCall(IERC20.transfer, (to, amount)));
    }

    /// @dev A token call that succeeds when it does not revert and returns
    /// nothing or true (SafeERC20's rule); a token with no code fails.
    function _call(address token, bytes memory data) private {
        if (token.code.length == 0) revert TransferFailed();
        (bool ok, bytes memory ret) = token.call(data);
        if (!ok || (ret.length != 0 && (ret.length < 32 || abi.decode(ret, (uint256)) != 1))) revert TransferFailed();
    }
}
