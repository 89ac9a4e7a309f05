import { parseAbi } from 'viem';

/**
 * The ERC-8004 Identity Registry as the EIP gives it (ERCS/erc-8004.md, "Identity Registry"), plus
 * the ERC-721 / ERC-165 reads the CLI uses. Our local registry (stack/identity-registry) and the
 * official deployments both answer to it; test/chain/identity-registry.test.ts checks that every
 * entry is in our compiled ABI.
 */
export const identityRegistryAbi = parseAbi([
  'function register(string agentURI, (string metadataKey, bytes metadataValue)[] metadata) returns (uint256 agentId)',
  'function register(string agentURI) returns (uint256 agentId)',
  'function register() returns (uint256 agentId)',
  'function setAgentURI(uint256 agentId, string newURI)',
  'function getMetadata(uint256 agentId, string metadataKey) view returns (bytes)',
  'function setMetadata(uint256 agentId, string metadataKey, bytes metadataValue)',
  'function setAgentWallet(uint256 agentId, address newWallet, uint256 deadline, bytes signature)',
  'function getAgentWallet(uint256 agentId) view returns (address)',
  'function unsetAgentWallet(uint256 agentId)',
  'event Registered(uint256 indexed agentId, string agentURI, address indexed owner)',
  'event URIUpdated(uint256 indexed agentId, string newURI, address indexed updatedBy)',
  'event MetadataSet(uint256 indexed agentId, string indexed indexedMetadataKey, string metadataKey, bytes metadataValue)',
  // ERC-721 (tokenId = agentId, tokenURI = agentURI) and ERC-165
  'function ownerOf(uint256 tokenId) view returns (address)',
  'function tokenURI(uint256 tokenId) view returns (string)',
  'function getApproved(uint256 tokenId) view returns (address)',
  'function isApprovedForAll(address owner, address operator) view returns (bool)',
  'function supportsInterface(bytes4 interfaceId) view returns (bool)',
  'event Transfer(address indexed from, address indexed to, uint256 indexed tokenId)',
]);

/** ERC-165 interface id of ERC-721: every ERC-8004 Identity Registry is one. */
export const ERC721_INTERFACE_ID = '0x80ac58cd';
