// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice The ERC-8004 Identity Registry interface as the EIP gives it (Identity Registry:
///         registration, agentURI, on-chain metadata, the reserved `agentWallet` key).
interface IERC8004IdentityRegistry {
    struct MetadataEntry {
        string metadataKey;
        bytes metadataValue;
    }

    event Registered(uint256 indexed agentId, string agentURI, address indexed owner);
    event URIUpdated(uint256 indexed agentId, string newURI, address indexed updatedBy);
    event MetadataSet(uint256 indexed agentId, string indexed indexedMetadataKey, string metadataKey, bytes metadataValue);

    function register(string calldata agentURI, MetadataEntry[] calldata metadata) external returns (uint256 agentId);
    function register(string calldata agentURI) external returns (uint256 agentId);
    function register() external returns (uint256 agentId);
    function setAgentURI(uint256 agentId, string calldata newURI) external;
    function getMetadata(uint256 agentId, string calldata metadataKey) external view returns (bytes memory);
    function setMetadata(uint256 agentId, string calldata metadataKey, bytes calldata metadataValue) external;
    function setAgentWallet(uint256 agentId, address newWallet, uint256 deadline, bytes calldata signature) external;
    function getAgentWallet(uint256 agentId) external view returns (address);
    function unsetAgentWallet(uint256 agentId) external;
}

interface IERC721TokenReceiver {
    function onERC721Received(address operator, address from, uint256 tokenId, bytes calldata data) external returns (bytes4);
}

/// @title IdentityRegistry — the Obol Edge local stack's ERC-8004 Identity Registry.
/// @notice An ERC-721 (with ERC-721 Metadata and ERC-4906) whose tokenId is the agentId and whose
///         tokenURI is the agentURI. Written for the local chain; not audited, not for a real chain
///         (public chains have the official deployments, see cluster-agent/src/identity/registries.ts).
/// @dev agentIds start at 1 (the EIP only says "assigned incrementally"). Revert reasons of the
///      ERC-8004 functions use the reference implementation's wording; ERC-721 failures use the
///      ERC-6093 custom errors. No constructor: name and symbol are constants and the EIP-712
///      domain separator is computed per call, so the code also works when placed with setCode.
contract IdentityRegistry is IERC8004IdentityRegistry {
    string public constant name = "AgentIdentity";
    string public constant symbol = "AGENT";

    string private constant AGENT_WALLET_KEY = "agentWallet";
    bytes32 private constant AGENT_WALLET_KEY_HASH = keccak256("agentWallet");
    bytes32 private constant AGENT_WALLET_SET_TYPEHASH =
        keccak256("AgentWalletSet(uint256 agentId,address newWallet,address owner,uint256 deadline)");
    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    string private constant DOMAIN_NAME = "ERC8004IdentityRegistry";
    string private constant DOMAIN_VERSION = "1";
    uint256 private constant MAX_DEADLINE_DELAY = 5 minutes;
    // secp256k1 n / 2: a signature with a larger s is malleable (EIP-2).
    uint256 private constant MAX_S = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    uint256 private _lastAgentId;
    mapping(uint256 agentId => address) private _owners;
    mapping(address owner => uint256) private _balances;
    mapping(uint256 agentId => address) private _approved;
    mapping(address owner => mapping(address operator => bool)) private _operators;
    mapping(uint256 agentId => string) private _agentURIs;
    mapping(uint256 agentId => mapping(string metadataKey => bytes)) private _metadata;

    event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);
    event Approval(address indexed owner, address indexed approved, uint256 indexed tokenId);
    event ApprovalForAll(address indexed owner, address indexed operator, bool approved);
    /// ERC-4906: tells NFT apps that tokenURI changed.
    event MetadataUpdate(uint256 _tokenId);

    error ERC721InvalidOwner(address owner);
    error ERC721NonexistentToken(uint256 tokenId);
    error ERC721IncorrectOwner(address sender, uint256 tokenId, address owner);
    error ERC721InvalidReceiver(address receiver);
    error ERC721InsufficientApproval(address operator, uint256 tokenId);
    error ERC721InvalidApprover(address approver);
    error ERC721InvalidOperator(address operator);

    // ---- ERC-165 ----

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == 0x01ffc9a7 // ERC-165
            || interfaceId == 0x80ac58cd // ERC-721
            || interfaceId == 0x5b5e139f // ERC-721 Metadata
            || interfaceId == 0x49064906; // ERC-4906
    }

    // ---- ERC-8004 registration ----

    function register(string calldata agentURI, MetadataEntry[] calldata metadata) external returns (uint256 agentId) {
        agentId = _register(agentURI);
        for (uint256 i = 0; i < metadata.length; i++) {
            _setMetadata(agentId, metadata[i].metadataKey, metadata[i].metadataValue);
        }
        _checkReceiver(address(0), msg.sender, agentId, "");
    }

    function register(string calldata agentURI) external returns (uint256 agentId) {
        agentId = _register(agentURI);
        _checkReceiver(address(0), msg.sender, agentId, "");
    }

    function register() external returns (uint256 agentId) {
        agentId = _register("");
        _checkReceiver(address(0), msg.sender, agentId, "");
    }

    function setAgentURI(uint256 agentId, string calldata newURI) external {
        _requireAuthorized(agentId);
        _agentURIs[agentId] = newURI;
        emit MetadataUpdate(agentId);
        emit URIUpdated(agentId, newURI, msg.sender);
    }

    /// @notice The agentURI (ERC-721 Metadata's tokenURI).
    function tokenURI(uint256 agentId) external view returns (string memory) {
        _requireOwned(agentId);
        return _agentURIs[agentId];
    }

    // ---- ERC-8004 on-chain metadata ----

    function getMetadata(uint256 agentId, string calldata metadataKey) external view returns (bytes memory) {
        return _metadata[agentId][metadataKey];
    }

    function setMetadata(uint256 agentId, string calldata metadataKey, bytes calldata metadataValue) external {
        _requireAuthorized(agentId);
        _setMetadata(agentId, metadataKey, metadataValue);
    }

    function getAgentWallet(uint256 agentId) external view returns (address) {
        _requireOwned(agentId);
        return address(bytes20(_metadata[agentId][AGENT_WALLET_KEY]));
    }

    /// @notice Points the reserved `agentWallet` at `newWallet`, which proves control with an
    ///         EIP-712 signature (EOA) or ERC-1271 (contract) over AgentWalletSet.
    function setAgentWallet(uint256 agentId, address newWallet, uint256 deadline, bytes calldata signature) external {
        address owner = _requireAuthorized(agentId);
        require(newWallet != address(0), "bad wallet");
        require(block.timestamp <= deadline, "expired");
        require(deadline <= block.timestamp + MAX_DEADLINE_DELAY, "deadline too far");
        bytes32 digest = keccak256(abi.encodePacked(
            "\x19\x01",
            DOMAIN_SEPARATOR(),
            keccak256(abi.encode(AGENT_WALLET_SET_TYPEHASH, agentId, newWallet, owner, deadline))
        ));
        require(_signedBy(newWallet, digest, signature), "invalid wallet sig");
        _writeAgentWallet(agentId, abi.encodePacked(newWallet));
    }

    function unsetAgentWallet(uint256 agentId) external {
        _requireAuthorized(agentId);
        _writeAgentWallet(agentId, "");
    }

    // ---- EIP-712 domain (ERC-5267) ----

    function DOMAIN_SEPARATOR() public view returns (bytes32) {
        return keccak256(abi.encode(
            DOMAIN_TYPEHASH, keccak256(bytes(DOMAIN_NAME)), keccak256(bytes(DOMAIN_VERSION)), block.chainid, address(this)
        ));
    }

    function eip712Domain() external view returns (
        bytes1 fields, string memory domainName, string memory version, uint256 chainId,
        address verifyingContract, bytes32 salt, uint256[] memory extensions
    ) {
        return (hex"0f", DOMAIN_NAME, DOMAIN_VERSION, block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    // ---- ERC-721 ----

    function balanceOf(address owner) external view returns (uint256) {
        if (owner == address(0)) revert ERC721InvalidOwner(address(0));
        return _balances[owner];
    }

    function ownerOf(uint256 agentId) external view returns (address) {
        return _requireOwned(agentId);
    }

    function approve(address to, uint256 agentId) external {
        address owner = _requireOwned(agentId);
        if (msg.sender != owner && !_operators[owner][msg.sender]) revert ERC721InvalidApprover(msg.sender);
        _approved[agentId] = to;
        emit Approval(owner, to, agentId);
    }

    function getApproved(uint256 agentId) external view returns (address) {
        _requireOwned(agentId);
        return _approved[agentId];
    }

    function setApprovalForAll(address operator, bool approved) external {
        if (operator == address(0)) revert ERC721InvalidOperator(operator);
        _operators[msg.sender][operator] = approved;
        emit ApprovalForAll(msg.sender, operator, approved);
    }

    function isApprovedForAll(address owner, address operator) external view returns (bool) {
        return _operators[owner][operator];
    }

    function transferFrom(address from, address to, uint256 agentId) public {
        if (to == address(0)) revert ERC721InvalidReceiver(address(0));
        address owner = _requireOwned(agentId);
        if (!_isAuthorized(owner, msg.sender, agentId)) revert ERC721InsufficientApproval(msg.sender, agentId);
        if (owner != from) revert ERC721IncorrectOwner(from, agentId, owner);
        delete _approved[agentId];
        _balances[from] -= 1;
        _balances[to] += 1;
        _owners[agentId] = to;
        emit Transfer(from, to, agentId);
        // A verified wallet belongs to the previous owner; the new one must prove theirs again.
        _writeAgentWallet(agentId, "");
    }

    function safeTransferFrom(address from, address to, uint256 agentId) external {
        transferFrom(from, to, agentId);
        _checkReceiver(from, to, agentId, "");
    }

    function safeTransferFrom(address from, address to, uint256 agentId, bytes calldata data) external {
        transferFrom(from, to, agentId);
        _checkReceiver(from, to, agentId, data);
    }

    // ---- internals ----

    /// Mints the next agentId to the caller with `agentURI`; the receiver check is the caller's last step.
    function _register(string memory agentURI) private returns (uint256 agentId) {
        agentId = ++_lastAgentId;
        _owners[agentId] = msg.sender;
        _balances[msg.sender] += 1;
        emit Transfer(address(0), msg.sender, agentId);
        if (bytes(agentURI).length > 0) {
            _agentURIs[agentId] = agentURI;
            emit MetadataUpdate(agentId);
        }
        emit Registered(agentId, agentURI, msg.sender);
        _writeAgentWallet(agentId, abi.encodePacked(msg.sender));
    }

    function _setMetadata(uint256 agentId, string calldata metadataKey, bytes calldata metadataValue) private {
        require(keccak256(bytes(metadataKey)) != AGENT_WALLET_KEY_HASH, "reserved key");
        _metadata[agentId][metadataKey] = metadataValue;
        emit MetadataSet(agentId, metadataKey, metadataKey, metadataValue);
    }

    function _writeAgentWallet(uint256 agentId, bytes memory value) private {
        _metadata[agentId][AGENT_WALLET_KEY] = value;
        emit MetadataSet(agentId, AGENT_WALLET_KEY, AGENT_WALLET_KEY, value);
    }

    function _requireOwned(uint256 agentId) private view returns (address owner) {
        owner = _owners[agentId];
        if (owner == address(0)) revert ERC721NonexistentToken(agentId);
    }

    /// The owner, an operator of the owner, or the address approved for this agent.
    function _isAuthorized(address owner, address spender, uint256 agentId) private view returns (bool) {
        return spender == owner || _operators[owner][spender] || _approved[agentId] == spender;
    }

    function _requireAuthorized(uint256 agentId) private view returns (address owner) {
        owner = _requireOwned(agentId);
        require(_isAuthorized(owner, msg.sender, agentId), "Not authorized");
    }

    function _checkReceiver(address from, address to, uint256 agentId, bytes memory data) private {
        if (to.code.length == 0) return;
        try IERC721TokenReceiver(to).onERC721Received(msg.sender, from, agentId, data) returns (bytes4 answer) {
            if (answer != IERC721TokenReceiver.onERC721Received.selector) revert ERC721InvalidReceiver(to);
        } catch {
            revert ERC721InvalidReceiver(to);
        }
    }

    /// A low-s 65-byte ECDSA signature by `wallet`, else an ERC-1271 answer from `wallet`'s code.
    function _signedBy(address wallet, bytes32 digest, bytes calldata signature) private view returns (bool) {
        if (signature.length == 65) {
            uint8 v = uint8(signature[64]);
            if (v < 27) v += 27;
            bytes32 s = bytes32(signature[32:64]);
            if (uint256(s) <= MAX_S && ecrecover(digest, v, bytes32(signature[0:32]), s) == wallet) return true;
        }
        if (wallet.code.length == 0) return false;
        (bool ok, bytes memory answer) = wallet.staticcall(abi.encodeWithSignature("isValidSignature(bytes32,bytes)", digest, signature));
        return ok && answer.length >= 32 && abi.decode(answer, (bytes4)) == bytes4(0x1626ba7e);
    }
}
